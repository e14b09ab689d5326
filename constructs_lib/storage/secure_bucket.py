"""``SecureBucket``: the only way this project makes an S3 bucket.

Secure by default: all four public-access-block flags, ``BucketOwnerEnforced``
(ACLs disabled), versioning, SSE-KMS with a bucket key, a bucket policy that
denies plain HTTP and TLS below 1.2, lifecycle rules with explicit filters and
``abort_incomplete_multipart_upload``. Each relaxation is a named, explicit prop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.policy import (
    Condition,
    Principal,
    Statement,
    deny_insecure_transport,
    inline_role_policy,
    policy_document,
)

_STORAGE_CLASSES = {"STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"}


# S3 refuses transitions to the infrequent-access classes before 30 days (current
# and noncurrent versions alike):
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html
_MIN_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30}


@dataclass(frozen=True)
class Transition:
    """Move objects to ``storage_class`` ``days`` after creation (or after becoming noncurrent)."""

    days: int
    """Days after creation (current versions) or after becoming noncurrent. >= 0; >= 30 for ``*_IA``."""
    storage_class: str
    """One of ``STANDARD_IA``, ``ONEZONE_IA``, ``INTELLIGENT_TIERING``, ``GLACIER_IR``, ``GLACIER``, ``DEEP_ARCHIVE``."""


@dataclass(frozen=True)
class LifecycleRule:
    """One lifecycle rule; ``prefix`` ``""`` means the whole bucket (an explicit empty filter)."""

    id: str
    """Rule id, unique within the bucket."""
    prefix: str = ""
    """Key prefix the rule applies to. Default: ``""`` (every object)."""
    transitions: tuple[Transition, ...] = ()
    """Transitions of current versions. Default: none."""
    noncurrent_transitions: tuple[Transition, ...] = ()
    """Transitions of noncurrent versions. Default: none."""
    noncurrent_expiration_days: int | None = None
    """Delete noncurrent versions this many days after they become noncurrent. Default: never."""
    expiration_days: int | None = None
    """Expire current versions this many days after creation. Default: never."""
    abort_incomplete_multipart_upload_days: int = 7
    """Abort multipart uploads left incomplete (their parts are billed but invisible). Default: 7."""


@dataclass(frozen=True)
class SecureBucketProps:
    bucket_name: str
    """Globally unique bucket name (checked against S3's rules)."""
    kms_key_arn: str | None = None
    """KMS key for SSE-KMS (with an S3 bucket key). Required unless ``sse_algorithm="AES256"``."""
    sse_algorithm: str = "aws:kms"
    """``aws:kms`` (default) or ``AES256``; the latter only for buckets whose writers
    cannot use KMS (e.g. ELB and S3 server access logs)."""
    versioning: bool = True
    """Object versioning. Default: on."""
    bucket_key_enabled: bool = True
    """S3 Bucket Key for SSE-KMS: one data key per bucket and period instead of a KMS call per
    object (cheaper). Default: on. Off where a key policy must tell objects apart: with a
    bucket key the encryption context S3 sends KMS is the bucket ARN, without it the
    object ARN (``kms:EncryptionContext:aws:s3:arn``)."""
    lifecycle_rules: tuple[LifecycleRule, ...] = (LifecycleRule(id="default", noncurrent_expiration_days=90),)
    """Default: expire noncurrent versions after 90 days, abort uploads after 7 days."""
    access_log_bucket: str | None = None
    """Bucket receiving S3 server access logs. Default: none."""
    access_log_prefix: str = ""
    """Key prefix of the access logs. Default: ``"<bucket_name>/"``."""
    force_destroy: bool = False
    """Let ``terraform destroy`` delete a non-empty bucket. Default: off. Stacks pass
    ``storage.force_destroy_buckets`` from configuration, which refuses it in any
    environment with ``resilience.deletion_protection`` (production)."""
    prevent_destroy: bool = False
    """Refuse to plan the bucket's destruction (Terraform lifecycle)."""
    extra_policy_statements: tuple[Statement, ...] = field(default_factory=tuple)
    """Statements added to the bucket policy (e.g. a service's write access)."""


class SecureBucket(Construct):
    """An encrypted, private, versioned, TLS-only S3 bucket.

    Outputs: ``bucket_name``, ``bucket_arn``, ``bucket_id``.
    """

    def __init__(self, scope: Construct, id_: str, props: SecureBucketProps):
        super().__init__(scope, id_)
        self.props = props
        self._region: str | None = None
        check(props.bucket_name, ResourceKind.S3_BUCKET)
        self._validate(id_, props)

        lifecycle = TerraformResourceLifecycle(prevent_destroy=True) if props.prevent_destroy else None
        self.bucket = aws.s3_bucket.S3Bucket(
            self, "bucket", bucket=props.bucket_name, force_destroy=props.force_destroy, lifecycle=lifecycle
        )
        bucket_id = self.bucket.id

        self.public_access_block = aws.s3_bucket_public_access_block.S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        aws.s3_bucket_ownership_controls.S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket_id,
            rule=aws.s3_bucket_ownership_controls.S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        self.versioning = aws.s3_bucket_versioning.S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration=aws.s3_bucket_versioning.S3BucketVersioningVersioningConfiguration(
                status="Enabled" if props.versioning else "Suspended"
            ),
        )
        kms = props.sse_algorithm == "aws:kms"
        aws.s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                aws.s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=aws.s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm=props.sse_algorithm,
                        kms_master_key_id=props.kms_key_arn if kms else None,
                    ),
                    bucket_key_enabled=props.bucket_key_enabled if kms else None,
                )
            ],
        )
        self.policy = self._policy(props)
        if props.lifecycle_rules:
            self._lifecycle(props.lifecycle_rules)
        if props.access_log_bucket:
            aws.s3_bucket_logging.S3BucketLoggingA(
                self,
                "logging",
                bucket=bucket_id,
                target_bucket=props.access_log_bucket,
                target_prefix=props.access_log_prefix or f"{props.bucket_name}/",
            )

        self.bucket_name: str = self.bucket.bucket
        self.bucket_arn: str = self.bucket.arn
        self.bucket_id: str = self.bucket.id

    # --- grants: the one definition of "read" and "write" this bucket -------------------------

    def grant_read(self, grantee_id: str, role_name: str) -> aws.iam_role_policy.IamRolePolicy:
        """Let the IAM role ``role_name`` list the bucket and read (and decrypt) its objects.

        Returns the ``aws_iam_role_policy`` it attaches, named after ``grantee_id``.
        """
        return self._grant(grantee_id, role_name, "read", self.read_statements())

    def grant_read_write(self, grantee_id: str, role_name: str) -> aws.iam_role_policy.IamRolePolicy:
        """Let the IAM role ``role_name`` read, write and delete objects."""
        return self._grant(grantee_id, role_name, "read-write", self.read_statements() + self.write_statements(delete=True))

    def read_statements(self) -> list[Statement]:
        """``s3:ListBucket`` on the bucket, ``s3:GetObject(Version)`` on its objects and, with
        SSE-KMS, ``kms:Decrypt`` on the bucket's key through S3 only.

        For an owner that writes the grant into its own policy (``ModelRegistry``'s grants):
        every read grant of a bucket is these statements.
        """
        statements = [
            Statement(sid="ListBucket", actions=("s3:ListBucket",), resources=(self.bucket.arn,)),
            Statement(sid="ReadObjects", actions=("s3:GetObject", "s3:GetObjectVersion"), resources=(f"{self.bucket.arn}/*",)),
        ]
        if self.props.sse_algorithm == "aws:kms":
            # With SSE-KMS, S3 calls KMS as the caller: without this, reads fail with AccessDenied.
            statements.append(self._key_statement("DecryptObjects", "kms:Decrypt"))
        return statements

    def write_statements(self, *, delete: bool = False) -> list[Statement]:
        """``s3:PutObject`` and ``s3:AbortMultipartUpload`` on the objects (``s3:DeleteObject``
        too with ``delete``) and, with SSE-KMS, ``kms:GenerateDataKey`` through S3 only.
        Add :meth:`read_statements` for multipart uploads, which also need ``kms:Decrypt``."""
        actions = ("s3:PutObject", "s3:AbortMultipartUpload") + (("s3:DeleteObject",) if delete else ())
        statements = [Statement(sid="WriteObjects", actions=actions, resources=(f"{self.bucket.arn}/*",))]
        if self.props.sse_algorithm == "aws:kms":
            statements.append(self._key_statement("EncryptObjects", "kms:GenerateDataKey"))
        return statements

    def _key_statement(self, sid: str, action: str) -> Statement:
        # The key is usually shared with other data stores (the environment's ``data`` key):
        # the grantee may use it only for requests S3 makes on its behalf.
        if self._region is None:
            self._region = aws.data_aws_region.DataAwsRegion(self, "region").name
        via_s3 = Condition("StringEquals", "kms:ViaService", (f"s3.{self._region}.amazonaws.com",))
        return Statement(sid=sid, actions=(action,), resources=(self.props.kms_key_arn,), conditions=(via_s3,))

    def _grant(self, grantee_id: str, role_name: str, access: str, statements: list[Statement]):
        return inline_role_policy(
            self, f"grant-{grantee_id}", name=f"s3-{access}-{self.props.bucket_name}", role=role_name, statements=statements
        )

    @staticmethod
    def _validate(id_: str, props: SecureBucketProps) -> None:
        if props.sse_algorithm not in ("aws:kms", "AES256"):
            raise ValidationError(
                f"SecureBucket {id_}: sse_algorithm must be 'aws:kms' or 'AES256', got {props.sse_algorithm!r}"
            )
        if props.sse_algorithm == "aws:kms" and not props.kms_key_arn:
            raise ValidationError(f"SecureBucket {id_}: kms_key_arn is required with sse_algorithm 'aws:kms'")
        if props.sse_algorithm == "AES256" and props.kms_key_arn:
            raise ValidationError(
                f"SecureBucket {id_}: kms_key_arn {props.kms_key_arn!r} would be ignored with sse_algorithm 'AES256'"
            )
        if props.force_destroy and props.prevent_destroy:
            raise ValidationError(f"SecureBucket {id_}: force_destroy and prevent_destroy exclude each other")
        ids = [rule.id for rule in props.lifecycle_rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValidationError(
                f"SecureBucket {id_}: lifecycle rule ids must be unique, got duplicates {duplicates!r}"
            )
        for rule in props.lifecycle_rules:
            SecureBucket._validate_rule(id_, rule)

    @staticmethod
    def _validate_rule(id_: str, rule: LifecycleRule) -> None:
        where = f"SecureBucket {id_}: lifecycle rule {rule.id!r}"
        for t in rule.transitions + rule.noncurrent_transitions:
            if t.storage_class not in _STORAGE_CLASSES:
                raise ValidationError(f"{where}: unknown storage class {t.storage_class!r}")
            minimum = _MIN_DAYS.get(t.storage_class, 0)
            if t.days < minimum:
                raise ValidationError(
                    f"{where}: days of a transition to {t.storage_class} must be >= {minimum}, got {t.days}"
                )
        if rule.abort_incomplete_multipart_upload_days < 1:
            raise ValidationError(
                f"{where}: abort_incomplete_multipart_upload_days must be >= 1, "
                f"got {rule.abort_incomplete_multipart_upload_days}"
            )
        for name, expiry, transitions in (
            ("expiration_days", rule.expiration_days, rule.transitions),
            ("noncurrent_expiration_days", rule.noncurrent_expiration_days, rule.noncurrent_transitions),
        ):
            if expiry is None:
                continue
            if expiry < 1:
                raise ValidationError(f"{where}: {name} must be >= 1, got {expiry}")
            latest = max((t.days for t in transitions), default=0)
            if transitions and expiry <= latest:
                # Objects would expire before (or as) they reach their last storage class.
                raise ValidationError(
                    f"{where}: {name} must be after the last transition ({latest} days), got {expiry}"
                )

    def _policy(self, props: SecureBucketProps):
        arns = (self.bucket.arn, f"{self.bucket.arn}/*")
        anyone = (Principal("*", ("*",)),)
        statements = [
            deny_insecure_transport(("s3:*",), arns),
            Statement(
                sid="DenyOutdatedTls",
                effect="Deny",
                actions=("s3:*",),
                resources=arns,
                principals=anyone,
                conditions=(Condition("NumericLessThan", "s3:TlsVersion", ("1.2",)),),
            ),
            *props.extra_policy_statements,
        ]
        document = policy_document(self, "policy-document", statements)
        # A bucket policy PUT while the public-access block is being created can be
        # rejected as "public"; terraform-aws-modules orders them the same way.
        return aws.s3_bucket_policy.S3BucketPolicy(
            self, "policy", bucket=self.bucket.id, policy=document.json, depends_on=[self.public_access_block]
        )

    def _lifecycle(self, rules: tuple[LifecycleRule, ...]) -> None:
        lc = aws.s3_bucket_lifecycle_configuration
        rendered = []
        for rule in rules:
            rendered.append(
                lc.S3BucketLifecycleConfigurationRule(
                    id=rule.id,
                    status="Enabled",
                    # An explicit filter: without one the provider warns and AWS
                    # treats the rule differently across API versions.
                    filter=[lc.S3BucketLifecycleConfigurationRuleFilter(prefix=rule.prefix)],
                    transition=[
                        lc.S3BucketLifecycleConfigurationRuleTransition(days=t.days, storage_class=t.storage_class)
                        for t in rule.transitions
                    ]
                    or None,
                    noncurrent_version_transition=[
                        lc.S3BucketLifecycleConfigurationRuleNoncurrentVersionTransition(
                            noncurrent_days=t.days, storage_class=t.storage_class
                        )
                        for t in rule.noncurrent_transitions
                    ]
                    or None,
                    noncurrent_version_expiration=[
                        lc.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=rule.noncurrent_expiration_days
                        )
                    ]
                    if rule.noncurrent_expiration_days
                    else None,
                    expiration=[lc.S3BucketLifecycleConfigurationRuleExpiration(days=rule.expiration_days)]
                    if rule.expiration_days
                    else None,
                    abort_incomplete_multipart_upload=[
                        lc.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=rule.abort_incomplete_multipart_upload_days
                        )
                    ],
                )
            )
        # Lifecycle rules on noncurrent versions need versioning configured first.
        lc.S3BucketLifecycleConfiguration(
            self, "lifecycle", bucket=self.bucket.id, rule=rendered, depends_on=[self.versioning]
        )

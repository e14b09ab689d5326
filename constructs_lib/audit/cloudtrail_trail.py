"""``CloudTrailTrail``: the account's audit trail, tamper-evident and encrypted.

* Multi-region, with global service events (IAM, STS, CloudFront are logged in
  us-east-1): one trail sees every API call of the account.
* Log-file validation: CloudTrail signs an hourly digest of the files it delivered,
  so a deleted or edited file shows (``aws cloudtrail validate-logs``).
* Its own KMS key: the log files (SSE-KMS by CloudTrail itself), the bucket's default
  encryption and the CloudWatch Logs copy. The key policy lets CloudTrail encrypt only
  for trails of this account, and CloudWatch Logs only for this account's log groups.
* Its own :class:`~constructs_lib.storage.secure_bucket.SecureBucket` (TLS-only,
  private, versioned), with a lifecycle: Glacier Instant Retrieval after
  ``archive_days``, gone after ``expiration_days``. The bucket policy admits CloudTrail
  for this trail only (``aws:SourceArn``), under ``AWSLogs/<account>/``.
* Delivery to an :class:`~constructs_lib.monitoring.encrypted_log_group.EncryptedLogGroup`
  (for metric filters and Logs Insights), through a role CloudTrail assumes for this trail only.

The trail's ARN is built from its name (not read from the resource): the bucket policy,
the key policy and the delivery role must exist before the trail, which checks them
when it is created.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from constructs_lib import tagging
from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupProps
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.iam_role import IamRole, IamRoleProps, InlinePolicy
from constructs_lib.security.kms_key import KmsKey, KmsKeyProps, ServiceGrant
from constructs_lib.security.kms_keys import logs_service_grant
from constructs_lib.security.policy import Condition, Principal, Statement
from constructs_lib.storage.secure_bucket import LifecycleRule, SecureBucket, SecureBucketProps, Transition

_CLOUDTRAIL = "cloudtrail.amazonaws.com"


@dataclass(frozen=True)
class CloudTrailTrailProps:
    trail_name: str
    """Trail name (3..128 characters, letters, digits, ``._-``)."""
    bucket_name: str
    """Name of the log bucket this construct creates (globally unique)."""
    kms_alias: str
    """Alias of the trail's key this construct creates."""
    log_group_name: str
    """CloudWatch Logs group receiving the events."""
    log_retention_days: int
    """Days the CloudWatch Logs copy is kept (a CloudWatch Logs retention value)."""
    delivery_role_name: str
    """Name of the role CloudTrail assumes to write to the log group."""
    region: str
    """Home region of the trail (names the CloudWatch Logs service principal)."""
    archive_days: int = 90
    """Days before log files move to Glacier Instant Retrieval. Default: 90."""
    expiration_days: int = 365
    """Days log files are kept; after ``archive_days``. Default: 365."""
    force_destroy: bool = False
    """Let ``terraform destroy`` empty the bucket. Default: off (the record of what happened
    outlives the stack)."""


class CloudTrailTrail(Construct):
    """Outputs: ``trail_arn``, ``trail_name``, ``bucket_name``, ``bucket_arn``, ``key_arn``,
    ``log_group_name``, ``log_group_arn``, ``delivery_role_name``."""

    def __init__(self, scope: Construct, id_: str, props: CloudTrailTrailProps):
        super().__init__(scope, id_)
        self._validate(id_, props)
        tagging.set_component(self, "audit")
        identity = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "identity")
        partition = aws.data_aws_partition.DataAwsPartition(self, "partition").partition
        account = identity.account_id
        trail_arn = f"arn:{partition}:cloudtrail:{props.region}:{account}:trail/{props.trail_name}"
        this_trail = Condition("StringEquals", "aws:SourceArn", (trail_arn,))

        self.key = self._create_key(props, partition, account, this_trail)
        self.bucket = self._create_bucket(props, partition, account, this_trail)
        self.log_group = EncryptedLogGroup(
            self,
            "log-group",
            EncryptedLogGroupProps(
                name=props.log_group_name, retention_days=props.log_retention_days, kms_key_arn=self.key.key_arn
            ),
        )
        self.delivery_role = self._create_delivery_role(props, this_trail)
        self.trail = self._create_trail(props)

        self.trail_arn: str = self.trail.arn
        self.trail_name: str = self.trail.name
        self.bucket_name: str = self.bucket.bucket_name
        self.bucket_arn: str = self.bucket.bucket_arn
        self.key_arn: str = self.key.key_arn
        self.log_group_name: str = self.log_group.log_group_name
        self.log_group_arn: str = self.log_group.log_group_arn
        self.delivery_role_name: str = props.delivery_role_name

    # --- pieces ---------------------------------------------------------------------------

    def _create_key(self, props: CloudTrailTrailProps, partition: str, account: str, this_trail: Condition) -> KmsKey:
        return KmsKey(
            self,
            "kms",
            KmsKeyProps(
                alias=props.kms_alias,
                description=f"CloudTrail trail {props.trail_name}: log files and their CloudWatch Logs copy",
                service_grants=(
                    # https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
                    ServiceGrant(
                        service=_CLOUDTRAIL,
                        sid="CloudTrailEncryptLogs",
                        actions=("kms:GenerateDataKey*",),
                        conditions=(
                            this_trail,
                            Condition(
                                "StringLike",
                                "kms:EncryptionContext:aws:cloudtrail:arn",
                                (f"arn:{partition}:cloudtrail:*:{account}:trail/*",),
                            ),
                        ),
                    ),
                    ServiceGrant(service=_CLOUDTRAIL, sid="CloudTrailDescribeKey", actions=("kms:DescribeKey",), conditions=(this_trail,)),
                    logs_service_grant(props.region, account, partition),
                ),
            ),
        )

    def _create_bucket(self, props: CloudTrailTrailProps, partition: str, account: str, this_trail: Condition) -> SecureBucket:
        return SecureBucket(
            self,
            "bucket",
            SecureBucketProps(
                bucket_name=props.bucket_name,
                kms_key_arn=self.key.key_arn,
                force_destroy=props.force_destroy,
                lifecycle_rules=(
                    LifecycleRule(
                        id="trail-logs",
                        transitions=(Transition(days=props.archive_days, storage_class="GLACIER_IR"),),
                        expiration_days=props.expiration_days,
                        # A log file is never overwritten; a noncurrent version is a deleted one.
                        noncurrent_expiration_days=30,
                    ),
                ),
                extra_policy_statements=self._delivery_statements(props, partition, account, this_trail),
            ),
        )

    def _create_delivery_role(self, props: CloudTrailTrailProps, this_trail: Condition) -> IamRole:
        return IamRole(
            self,
            "delivery-role",
            IamRoleProps(
                role_name=props.delivery_role_name,
                description=f"CloudTrail {props.trail_name} delivers events to {props.log_group_name}",
                assumed_by=(Principal("Service", (_CLOUDTRAIL,)),),
                trust_conditions=(this_trail,),
                inline_policies=(
                    InlinePolicy(
                        "deliver-events",
                        (
                            Statement(
                                sid="Deliver",
                                actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                                resources=(f"{self.log_group.log_group_arn}:log-stream:*",),
                            ),
                        ),
                    ),
                ),
            ),
        )

    def _create_trail(self, props: CloudTrailTrailProps) -> aws.cloudtrail.Cloudtrail:
        return aws.cloudtrail.Cloudtrail(
            self,
            "trail",
            name=props.trail_name,
            s3_bucket_name=self.bucket.bucket_name,
            kms_key_id=self.key.key_arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            # CloudTrail wants the group's ARN with the ":*" stream suffix.
            cloud_watch_logs_group_arn=f"{self.log_group.log_group_arn}:*",
            cloud_watch_logs_role_arn=self.delivery_role.role_arn,
            # CreateTrail checks that it may write to the bucket and the group.
            depends_on=[self.bucket.policy, self.delivery_role.role, *self.delivery_role.inline_policies.values()],
        )

    @staticmethod
    def _delivery_statements(
        props: CloudTrailTrailProps, partition: str, account: str, this_trail: Condition
    ) -> tuple[Statement, ...]:
        # https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
        bucket_arn = f"arn:{partition}:s3:::{props.bucket_name}"
        cloudtrail = (Principal("Service", (_CLOUDTRAIL,)),)
        return (
            Statement(
                sid="CloudTrailAclCheck",
                actions=("s3:GetBucketAcl",),
                resources=(bucket_arn,),
                principals=cloudtrail,
                conditions=(this_trail,),
            ),
            Statement(
                sid="CloudTrailWrite",
                actions=("s3:PutObject",),
                resources=(f"{bucket_arn}/AWSLogs/{account}/*",),
                principals=cloudtrail,
                conditions=(this_trail, Condition("StringEquals", "s3:x-amz-acl", ("bucket-owner-full-control",))),
            ),
        )

    @staticmethod
    def _validate(id_: str, props: CloudTrailTrailProps) -> None:
        where = f"CloudTrailTrail {id_}"
        check(props.delivery_role_name, ResourceKind.IAM_ROLE)
        if not (3 <= len(props.trail_name) <= 128) or not props.trail_name[0].isalnum() or not all(
            c.isalnum() or c in "._-" for c in props.trail_name
        ):
            raise ValidationError(
                f"{where}: trail_name must be 3..128 letters, digits, '.', '_' or '-', starting alphanumeric, "
                f"got {props.trail_name!r}"
            )
        if props.archive_days < 1:
            raise ValidationError(f"{where}: archive_days must be >= 1, got {props.archive_days}")
        if props.expiration_days <= props.archive_days:
            raise ValidationError(
                f"{where}: expiration_days must be after archive_days ({props.archive_days}), got {props.expiration_days}"
            )

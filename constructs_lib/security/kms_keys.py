"""``KmsKeySet``: one customer-managed key per purpose, each usable by exactly the
services that need it.

Separate keys per purpose keep blast radius and audit trails apart: disabling
the ``data`` key does not stop logging, and a CloudTrail ``Decrypt`` on the
``secrets`` key means a secret was read. Services that reach a key through the
caller's own IAM permissions (RDS, S3, Secrets Manager, EKS envelope encryption,
OpenSearch: they act with ``kms:ViaService`` on the caller's behalf) need no
key-policy statement; the account statement of :class:`KmsKey` delegates to IAM.
Only services that call KMS as themselves get a statement, always pinned to
this account: by ``aws:SourceAccount`` (added by :class:`KmsKey`), or for CloudWatch
Logs by the account in the log-group ARN of the encryption context.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.naming import Naming
from constructs_lib.providers import aws
from constructs_lib.security.kms_key import KmsKey, KmsKeyProps, ServiceGrant
from constructs_lib.security.policy import Condition

PURPOSES = ("state", "logs", "data", "secrets", "eks", "alerts")
"""Every purpose this construct knows how to build a key policy for."""

DEFAULT_PURPOSES = ("logs", "data", "secrets", "eks", "alerts")
"""The environment keys. ``state`` is for the Terraform state bucket, which the
``state-bootstrap`` stack owns."""

_DESCRIPTIONS = {
    "state": "Terraform state objects",
    "logs": "CloudWatch Logs log groups (VPC flow logs, EKS control plane, applications)",
    "data": "Data at rest: RDS, S3 data buckets, OpenSearch, EBS",
    "secrets": "Secrets Manager secrets",
    "eks": "EKS envelope encryption of Kubernetes secrets",
    "alerts": "SNS alarm topics (CloudWatch alarms publish to them)",
}

# SNS-encrypted topics: a publishing service needs only these two
# (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
_PUBLISH_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def logs_service_grant(region: str, account: str, partition: str) -> ServiceGrant:
    """What CloudWatch Logs needs in the policy of a key that encrypts log groups of ``account``.

    CloudWatch Logs encrypts as itself, so the key policy must name it; the encryption
    context pins it to this account's log groups in this region
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
    """
    return ServiceGrant(
        service=f"logs.{region}.amazonaws.com",
        actions=(
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
        ),
        # Logs' documented key policy pins the caller by the encryption context only; an
        # aws:SourceAccount condition it may not send would break every encrypted log
        # group at deploy time.
        pin_source_account=False,
        conditions=(
            Condition(
                "ArnLike",
                "kms:EncryptionContext:aws:logs:arn",
                (f"arn:{partition}:logs:{region}:{account}:log-group:*",),
            ),
        ),
    )


@dataclass(frozen=True)
class KmsKeySetProps:
    naming: Naming
    """Builds the ``alias/{project}/{env}/security-{purpose}`` aliases."""
    region: str
    """Region of the keys (regional service principals, e.g. ``logs.<region>.amazonaws.com``)."""
    purposes: tuple[str, ...] = DEFAULT_PURPOSES
    """Which keys to create, from :data:`PURPOSES`. Default: :data:`DEFAULT_PURPOSES`."""
    deletion_window_in_days: int = 30
    """Waiting period before a scheduled deletion. Default: 30 (the maximum)."""
    rotation_period_in_days: int = 365
    """Automatic rotation period (rotation is always on). Default: 365."""


class KmsKeySet(Construct):
    """A rotated KMS key per purpose.

    Outputs: ``keys`` (purpose -> :class:`KmsKey`), :meth:`key_arn`.
    """

    def __init__(self, scope: Construct, id_: str, props: KmsKeySetProps):
        super().__init__(scope, id_)
        unknown = [p for p in props.purposes if p not in PURPOSES]
        if unknown or not props.purposes or len(set(props.purposes)) != len(props.purposes):
            raise ValidationError(
                f"KmsKeySet {id_}: purposes must be distinct values from {PURPOSES!r}, got {props.purposes!r}"
            )
        identity = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "identity")
        partition = aws.data_aws_partition.DataAwsPartition(self, "partition")
        grants = self._service_grants(props.region, identity.account_id, partition.partition)
        self.keys: dict[str, KmsKey] = {
            purpose: KmsKey(
                self,
                purpose,
                KmsKeyProps(
                    alias=props.naming.alias("security", purpose),
                    description=f"{props.naming.project} {props.naming.environment}: {_DESCRIPTIONS[purpose]}",
                    service_grants=grants[purpose],
                    deletion_window_in_days=props.deletion_window_in_days,
                    rotation_period_in_days=props.rotation_period_in_days,
                ),
            )
            for purpose in props.purposes
        }

    def key_arn(self, purpose: str) -> str:
        """The ARN of the ``purpose`` key; a clear error for a purpose this set lacks."""
        if purpose not in self.keys:
            raise ValidationError(f"KmsKeySet {self.node.id}: no key for purpose {purpose!r} (have {sorted(self.keys)})")
        return self.keys[purpose].key_arn

    @staticmethod
    def _service_grants(region: str, account: str, partition: str) -> dict[str, tuple[ServiceGrant, ...]]:
        return {
            "state": (),
            "data": (),
            "secrets": (),
            "eks": (),
            "logs": (logs_service_grant(region, account, partition),),
            # CloudWatch alarms publish to the encrypted alarm topic; SNS itself
            # decrypts to deliver.
            "alerts": (
                ServiceGrant(
                    service="cloudwatch.amazonaws.com",
                    actions=_PUBLISH_ACTIONS,
                    conditions=(
                        Condition("ArnLike", "aws:SourceArn", (f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*",)),
                    ),
                ),
                ServiceGrant(service="sns.amazonaws.com", actions=_PUBLISH_ACTIONS),
            ),
        }

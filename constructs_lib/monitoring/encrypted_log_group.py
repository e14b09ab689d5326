"""``EncryptedLogGroup``: a CloudWatch log group that is always KMS-encrypted and never kept forever.

Every construct that creates an ``aws_cloudwatch_log_group`` builds it through this
class, so that the retention periods CloudWatch Logs accepts, and the rule that a
group has a customer-managed key, have one home. The configuration model reads
:data:`LOG_RETENTION_DAYS` from here (the library owns the fact, config uses it).

Imports stay light on purpose: the configuration model imports this module (and so
every command does), while ``cdktf`` and the provider bindings start the jsii runtime;
they are imported where a group is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs_lib.errors import ValidationError
from constructs_lib.naming import ResourceKind, check

if TYPE_CHECKING:
    from constructs import Construct

LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
"""The retention periods CloudWatch Logs accepts, in days (0, "never expire", is left out on purpose).
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html"""

LOG_GROUP_CLASSES = ("STANDARD", "INFREQUENT_ACCESS")


def check_retention(where: str, field: str, days: int) -> None:
    """Raise :class:`ValidationError` unless ``days`` is a retention CloudWatch Logs accepts.

    Constructs call it on their own prop (``field``) before building anything, so the
    message names what the caller set."""
    if days not in LOG_RETENTION_DAYS:
        raise ValidationError(
            f"{where}: {field} must be one of the CloudWatch Logs retentions "
            f"({', '.join(map(str, LOG_RETENTION_DAYS))}), got {days!r}"
        )


@dataclass(frozen=True)
class EncryptedLogGroupProps:
    name: str
    """Log group name (CloudWatch Logs naming rules, checked)."""
    retention_days: int
    """Days the events are kept, one of :data:`LOG_RETENTION_DAYS`. No default: say how long."""
    kms_key_arn: str
    """Customer-managed key ARN that encrypts the group (CloudWatch Logs takes an ARN, not an
    alias). Its policy must let ``logs.<region>.amazonaws.com`` use it. Required."""
    log_group_class: str | None = None
    """``STANDARD`` or ``INFREQUENT_ACCESS`` (half the ingestion price, no metric filters or
    subscriptions). Default: None, not written: AWS's default, ``STANDARD``."""


class EncryptedLogGroup:
    """One ``aws_cloudwatch_log_group``, validated, created directly in ``scope`` as ``id_``.

    Not a construct node of its own: the group keeps the construct path (and so the
    Terraform address and logical id) it had before this class existed, and the
    ``imports:`` paths users wrote for it stay valid.

    Attributes: ``resource`` (the log group, for ``depends_on``), ``log_group_name``,
    ``log_group_arn``.
    """

    def __init__(self, scope: Construct, id_: str, props: EncryptedLogGroupProps):
        from constructs_lib.providers import aws  # here, not at the top: see the module's docstring

        self._validate(id_, props)
        self.resource = aws.cloudwatch_log_group.CloudwatchLogGroup(
            scope,
            id_,
            name=props.name,
            retention_in_days=props.retention_days,
            kms_key_id=props.kms_key_arn,
            log_group_class=props.log_group_class,
        )
        self.log_group_name: str = self.resource.name
        self.log_group_arn: str = self.resource.arn

    @staticmethod
    def _validate(id_: str, props: EncryptedLogGroupProps) -> None:
        from cdktf import Token  # here, not at the top: see the module's docstring

        where = f"EncryptedLogGroup {id_}"
        if not Token.is_unresolved(props.name):
            check(props.name, ResourceKind.LOG_GROUP)
        check_retention(where, "retention_days", props.retention_days)
        if not props.kms_key_arn:
            raise ValidationError(f"{where}: kms_key_arn is required (log groups are encrypted), got {props.kms_key_arn!r}")
        if props.log_group_class is not None and props.log_group_class not in LOG_GROUP_CLASSES:
            raise ValidationError(
                f"{where}: log_group_class must be STANDARD or INFREQUENT_ACCESS, got {props.log_group_class!r}"
            )

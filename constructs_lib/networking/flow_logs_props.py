"""Props of :class:`~constructs_lib.networking.flow_logs.VpcFlowLogs` and the values VPC flow
logs accept; ``network:`` in the configuration reads the aggregation intervals. No cdktf
here (``constructs_lib/__init__.py`` says why).
"""

from __future__ import annotations

from dataclasses import dataclass

TRAFFIC_TYPES = ("ALL", "ACCEPT", "REJECT")
AGGREGATION_INTERVALS = (60, 600)
"""Seconds over which a flow is aggregated into one record: the two values AWS accepts."""


@dataclass(frozen=True)
class VpcFlowLogsProps:
    vpc_id: str
    """The VPC whose traffic is logged."""
    log_group_name: str
    """Name of the CloudWatch log group created for the flow logs."""
    role_name: str
    """Name of the IAM role the flow-log service assumes to write."""
    kms_key_arn: str
    """KMS key encrypting the log group; its policy must let ``logs.<region>.amazonaws.com``
    use it (the security stack's ``logs`` key does)."""
    retention_days: int = 365
    """Log retention, one of CloudWatch Logs' allowed values. Default: 365."""
    traffic_type: str = "ALL"
    """``ALL``, ``ACCEPT`` or ``REJECT``. Default: ``ALL`` (rejected flows alone miss exfiltration)."""
    max_aggregation_interval: int = 600
    """Seconds over which a flow is aggregated into one record: 60 or 600. Default: 600."""

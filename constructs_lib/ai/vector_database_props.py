"""Props of :class:`~constructs_lib.ai.vector_database.VectorDatabase` and the values OpenSearch
Service accepts; ``vector_db:`` in the configuration reads them. No cdktf here
(``constructs_lib/__init__.py`` says why).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.storage import gp3

TLS_POLICIES = ("Policy-Min-TLS-1-2-2019-07", "Policy-Min-TLS-1-2-PFS-2023-10")
# What OpenSearch Service accepts; the configuration model (sophia_config/sections/vector_db.py)
# checks against these same values.
ENGINE_VERSION_PATTERN = r"^OpenSearch_\d+\.\d+$"
AVAILABILITY_ZONES = (1, 2, 3)
"""1: no zone awareness; 2 or 3: replicas spread across that many AZs."""
DEDICATED_MASTER_COUNTS = (0, 3, 5)
VOLUME_SIZE_GB = (10, 16384)
"""gp3 volume per data node, GiB (OpenSearch's minimum, gp3's maximum)."""


@dataclass(frozen=True)
class VectorDatabaseProps:
    domain_name: str
    """Domain name: 3-28 characters, lowercase letters, digits and '-', starting with a letter."""
    vpc_id: str
    """VPC of the domain's security group."""
    subnet_ids: tuple[str, ...]
    """Private subnets, one per AZ; the first ``availability_zones`` are used."""
    allowed_security_group_ids: tuple[str, ...]
    """Security groups admitted on 443 (the application tier's node security group). At least one."""
    kms_key_arn: str
    """Customer-managed key encrypting the indices, snapshots and swap (the ``data`` key)."""
    log_kms_key_arn: str
    """Key encrypting the log groups (the ``logs`` key; its policy must admit ``logs.<region>.amazonaws.com``)."""
    log_retention_days: int
    """Retention of the four log groups (a value CloudWatch Logs accepts)."""
    alarm_topic_arn: str
    """SNS topic notified when an alarm fires and when it recovers."""
    instance_type: str
    """Data node type, ``<family>.<size>.search``."""
    instance_count: int = 1
    """Data nodes. With zone awareness, a multiple of ``availability_zones``. Default: 1."""
    volume_size_gb: int = 20
    """gp3 volume per data node, GiB. Default: 20."""
    volume_iops: int = gp3.BASELINE_IOPS
    """gp3 IOPS. Default: 3000 (gp3 baseline, no extra charge)."""
    volume_throughput: int = gp3.BASELINE_THROUGHPUT_MIBPS
    """gp3 throughput, MiB/s. Default: 125 (gp3 baseline)."""
    availability_zones: int = 1
    """1: no zone awareness; 2 or 3: replicas spread across that many AZs. Default: 1."""
    dedicated_master_count: int = 0
    """0, 3 or 5 dedicated cluster-manager nodes. Default: 0 (data nodes elect one)."""
    dedicated_master_type: str | None = None
    """Dedicated master type; required when ``dedicated_master_count`` > 0."""
    engine_version: str = "OpenSearch_2.19"
    """Engine version. Default: ``OpenSearch_2.19``."""
    tls_security_policy: str = "Policy-Min-TLS-1-2-PFS-2023-10"
    """Minimum TLS policy of the HTTPS endpoint. Default: TLS 1.2 with forward secrecy."""
    automated_snapshot_start_hour: int = 2
    """UTC hour of the daily automated snapshot. Default: 2."""
    master_role_arn: str | None = None
    """IAM role mapped to OpenSearch's ``all_access`` role. Default: a role created here,
    assumable by IAM principals of this account that are allowed ``sts:AssumeRole`` on it."""
    free_storage_alarm_percent: int = 25
    """Alarm when a node's free storage falls to this share of its volume. Default: 25 (AWS recommendation)."""
    jvm_pressure_alarm_percent: int = 95
    """Alarm when JVM heap pressure stays at or above this. Default: 95 (AWS recommendation)."""

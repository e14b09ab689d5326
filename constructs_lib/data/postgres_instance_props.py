"""Props of :class:`~constructs_lib.data.postgres_instance.PostgresInstance`, the settings both
colours of a blue/green pair share (:class:`PostgresSettings`) and the values RDS accepts;
``database:`` in the configuration reads them. No cdktf here (``constructs_lib/__init__.py``
says why).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.encrypted_log_group import check_retention

# What RDS for PostgreSQL accepts; the configuration model (sophia_config/sections/database.py)
# checks against these same values.
ENGINE_VERSION_PATTERN = r"^\d{2}(\.\d+)?$"
"""``<major>`` or ``<major>.<minor>``."""
ALLOCATED_STORAGE_GB = (20, 65536)
"""gp3 storage limits of RDS for PostgreSQL, GiB."""
MAX_BACKUP_RETENTION_DAYS = 35
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
"""Enhanced Monitoring intervals, seconds."""
PERFORMANCE_INSIGHTS_RETENTION_DAYS = (7, *range(31, 732, 31))
"""Performance Insights keeps 7 days free, else whole months (31-day multiples) up to 2 years."""
LOG_EXPORTS = ("postgresql", "upgrade", "iam-db-auth-error")
"""Logs RDS for PostgreSQL can export to CloudWatch Logs."""
SECRET_REF_PATTERN = (
    r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})$"
)
"""A Secrets Manager ``SecretId``: a secret's name or ARN."""
# RDS for PostgreSQL reserves these master user names.
_RESERVED_USERNAMES = frozenset({"rdsadmin", "rdsrepladmin", "rds_superuser", "postgres", "admin"})
_USERNAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DB_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class PostgresSettings:
    """Engine, size, durability and observability: what the blue and green instances share."""

    engine_version: str
    """PostgreSQL ``<major>`` or ``<major>.<minor>``; minor upgrades are automatic, major ones
    never. A major alone keeps RDS's automatic minor upgrades from appearing as drift
    (the provider accepts a version prefix)."""
    instance_class: str
    """e.g. ``db.r6g.large``."""
    allocated_storage_gb: int
    """Initial gp3 storage, GiB (>= 20)."""
    max_allocated_storage_gb: int
    """Storage autoscaling ceiling, GiB (>= ``allocated_storage_gb``; equal turns autoscaling off)."""
    multi_az: bool = True
    """Synchronous standby in another AZ. Default: on."""
    backup_retention_days: int = 7
    """Automated backups (0..35 days; 0 disables point-in-time recovery). Default: 7."""
    backup_window: str = "03:00-04:00"
    """Daily UTC backup window. Default: 03:00-04:00."""
    maintenance_window: str = "sun:04:30-sun:05:30"
    """Weekly UTC maintenance window. Default: Sunday 04:30-05:30."""
    performance_insights_retention_days: int = 7
    """7 (free) or a multiple of 31 up to 731. Default: 7."""
    monitoring_interval_seconds: int = 60
    """Enhanced Monitoring interval (1, 5, 10, 15, 30, 60). Default: 60."""
    log_exports: tuple[str, ...] = ("postgresql", "upgrade")
    """Logs exported to CloudWatch Logs. Default: ``postgresql``, ``upgrade``."""
    log_retention_days: int = 30
    """Retention of the exported logs, a CloudWatch Logs value. Default: 30."""
    apply_immediately: bool = False
    """Apply changes now rather than in the maintenance window. Default: off."""
    blue_green_update: bool = False
    """Let RDS apply disruptive changes through an RDS Blue/Green Deployment
    (needs backups and ``rds.logical_replication=1``). Default: off."""
    database_name: str = "sophia"
    """Database created with the instance. Default: ``sophia``."""
    master_username: str = "sophia_admin"
    """Master user (its password lives in Secrets Manager). Default: ``sophia_admin``."""
    master_password_secret_id: str | None = None
    """Secret id (name or ARN, as Secrets Manager's SecretId) of an existing secret whose JSON ``password`` key is the
    master password; required with ``blue_green_update``. Default: none (RDS-managed)."""
    master_password_version: int = 1
    """Bump to make Terraform send the secret's current password again (write-only
    arguments are sent only when their version changes). Default: 1."""
    port: int = 5432
    """Listener port. Default: 5432."""

    @property
    def major_version(self) -> str:
        return self.engine_version.split(".")[0]

    def validate(self, where: str) -> None:
        """Raise ``ValidationError`` (prefixed with ``where``) for a value RDS would refuse."""
        settings = self
        # RDS would refuse these at apply time, minutes into a deploy; refuse them at synth.
        if not re.fullmatch(ENGINE_VERSION_PATTERN, settings.engine_version):
            raise ValidationError(
                f"{where}: engine_version must be '<major>' or '<major>.<minor>', got {settings.engine_version!r}"
            )
        low, high = ALLOCATED_STORAGE_GB
        for name in ("allocated_storage_gb", "max_allocated_storage_gb"):
            if not low <= getattr(settings, name) <= high:
                raise ValidationError(f"{where}: {name} must be {low}..{high}, got {getattr(settings, name)}")
        if settings.max_allocated_storage_gb < settings.allocated_storage_gb:
            raise ValidationError(
                f"{where}: max_allocated_storage_gb must be >= allocated_storage_gb ({settings.allocated_storage_gb}), "
                f"got {settings.max_allocated_storage_gb}"
            )
        if not 0 <= settings.backup_retention_days <= MAX_BACKUP_RETENTION_DAYS:
            raise ValidationError(
                f"{where}: backup_retention_days must be 0..{MAX_BACKUP_RETENTION_DAYS}, got {settings.backup_retention_days}"
            )
        if settings.blue_green_update and settings.backup_retention_days < 1:
            raise ValidationError(
                f"{where}: blue_green_update needs automated backups: backup_retention_days must be >= 1, "
                f"got {settings.backup_retention_days}"
            )
        if settings.monitoring_interval_seconds not in MONITORING_INTERVALS:
            raise ValidationError(
                f"{where}: monitoring_interval_seconds must be one of {MONITORING_INTERVALS}, "
                f"got {settings.monitoring_interval_seconds}"
            )
        if settings.performance_insights_retention_days not in PERFORMANCE_INSIGHTS_RETENTION_DAYS:
            raise ValidationError(
                f"{where}: performance_insights_retention_days must be 7 or a multiple of 31 up to 731, "
                f"got {settings.performance_insights_retention_days}"
            )
        for log in settings.log_exports:
            if log not in LOG_EXPORTS:
                raise ValidationError(f"{where}: log_exports entries must be one of {LOG_EXPORTS}, got {log!r}")
        check_retention(where, "log_retention_days", settings.log_retention_days)
        if not _USERNAME.fullmatch(settings.master_username) or settings.master_username in _RESERVED_USERNAMES:
            raise ValidationError(
                f"{where}: master_username must be lowercase letters, digits and '_' and not reserved by RDS, "
                f"got {settings.master_username!r}"
            )
        if not _DB_NAME.fullmatch(settings.database_name):
            raise ValidationError(
                f"{where}: database_name must be lowercase letters, digits and '_', got {settings.database_name!r}"
            )
        if settings.blue_green_update and settings.master_password_secret_id is None:
            raise ValidationError(
                f"{where}: blue_green_update needs master_password_secret_id: RDS Blue/Green Deployments do not "
                "support RDS-managed master passwords, got None"
            )
        if settings.master_password_secret_id is not None and not re.fullmatch(
            SECRET_REF_PATTERN, settings.master_password_secret_id
        ):
            raise ValidationError(
                f"{where}: master_password_secret_id must be a Secrets Manager secret name or ARN, "
                f"got {settings.master_password_secret_id!r}"
            )
        if settings.master_password_version < 1:
            raise ValidationError(
                f"{where}: master_password_version must be >= 1, got {settings.master_password_version}"
            )
        if not 1150 <= settings.port <= 65535:
            raise ValidationError(f"{where}: port must be 1150..65535 (RDS limit), got {settings.port}")


@dataclass(frozen=True)
class PostgresInstanceProps:
    identifier: str
    """RDS instance identifier (``Naming.name(..., kind=ResourceKind.RDS_INSTANCE)``)."""
    settings: PostgresSettings
    """Engine, size, durability, observability."""
    subnet_group_name: str
    """DB subnet group over the isolated database subnets."""
    security_group_ids: tuple[str, ...]
    """Security groups of the instance (the data-tier group)."""
    parameter_group_name: str
    """Parameter group (``DbParameterGroup``, which forces TLS)."""
    storage_kms_key_arn: str
    """Key for storage, snapshots and Performance Insights (the ``data`` key)."""
    secret_kms_key_arn: str
    """Key of the RDS-managed master user secret (the ``secrets`` key)."""
    log_kms_key_arn: str
    """Key of the exported logs' CloudWatch log groups (the ``logs`` key)."""
    monitoring_role_arn: str
    """Role Enhanced Monitoring publishes OS metrics with."""
    deletion_protection: bool
    """Refuse deletion (on for the active instance of a blue/green pair)."""
    restore_snapshot_identifier: str | None = None
    """Snapshot (identifier or ARN, usually a lookup's token) the instance is created from;
    read only at creation. Default: none (a new, empty database)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the instance beyond the environment's and the component's. Default: none."""

"""``PostgresInstance``: one encrypted, private, observable RDS for PostgreSQL instance.

Every security and durability setting is fixed here rather than exposed as an
option: storage and Performance Insights encrypted with a customer key, no public
address, TLS enforced by the parameter group, IAM authentication, a final
snapshot on deletion, tags copied to snapshots, automated backups kept after
deletion.

An instance can start from a snapshot (``restore_snapshot_identifier``): RDS restores
it, and Terraform never looks at the snapshot again. ``snapshot_identifier`` forces a
new resource in the provider, so it is in ``ignore_changes``: the snapshot a lookup
finds tomorrow, or none, never replaces a database that exists. So is the final
snapshot's name, fixed when the instance is created: an instance restored from a
snapshot is named after it (``<identifier>-final-<12 hex digits of its sha256>``), so
the colour of a blue/green pair that is retired at every other switch does not meet
the final snapshot of its previous life (RDS refuses a name that exists).

The master password never appears in code, configuration, the synthesized JSON,
the plan or the state. Two modes:

* default: RDS generates, stores and rotates it in Secrets Manager
  (``manage_master_user_password``), encrypted with the given key;
* ``master_password_secret_id``: for what RDS-managed passwords do not support, RDS
  Blue/Green Deployments among them
  (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/blue-green-deployments-considerations.html).
  The password is read from an existing Secrets Manager secret through an
  *ephemeral* resource into the *write-only* ``password_wo`` argument
  (Terraform >= 1.11), so Terraform never persists it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import Fn, TerraformResourceLifecycle, TerraformStack, Token
from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupProps, check_retention
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws

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
# Root CA with a 2061 expiry; rds-ca-2019 (the old default) expired in 2024.
CA_CERT_IDENTIFIER = "rds-ca-rsa2048-g1"


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


class PostgresInstance(Construct):
    """Outputs: ``identifier``, ``endpoint`` (``host:port``), ``address``, ``port``, ``arn``,
    ``resource_id`` (for ``rds-db:connect`` IAM policies), ``master_user_secret_arn``.
    """

    def __init__(self, scope: Construct, id_: str, props: PostgresInstanceProps):
        super().__init__(scope, id_)
        self._validate(id_, props)
        settings = props.settings
        # RDS creates these on first export with no retention and no encryption;
        # creating them first keeps them bounded and encrypted with our key.
        self.log_groups = [
            EncryptedLogGroup(
                self,
                f"log-{log}",
                EncryptedLogGroupProps(
                    name=f"/aws/rds/instance/{props.identifier}/{log}",
                    retention_days=settings.log_retention_days,
                    kms_key_arn=props.log_kms_key_arn,
                ),
            ).resource
            for log in settings.log_exports
        ]
        self.instance = aws.db_instance.DbInstance(
            self,
            "instance",
            identifier=props.identifier,
            engine="postgres",
            engine_version=settings.engine_version,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            instance_class=settings.instance_class,
            storage_type="gp3",
            allocated_storage=settings.allocated_storage_gb,
            max_allocated_storage=settings.max_allocated_storage_gb,
            storage_encrypted=True,
            kms_key_id=props.storage_kms_key_arn,
            db_name=settings.database_name,
            username=settings.master_username,
            **self._master_password(props),
            iam_database_authentication_enabled=True,
            port=settings.port,
            db_subnet_group_name=props.subnet_group_name,
            vpc_security_group_ids=list(props.security_group_ids),
            publicly_accessible=False,
            ca_cert_identifier=CA_CERT_IDENTIFIER,
            parameter_group_name=props.parameter_group_name,
            multi_az=settings.multi_az,
            backup_retention_period=settings.backup_retention_days,
            backup_window=settings.backup_window,
            maintenance_window=settings.maintenance_window,
            copy_tags_to_snapshot=True,
            delete_automated_backups=False,
            skip_final_snapshot=False,
            snapshot_identifier=props.restore_snapshot_identifier,
            final_snapshot_identifier=self._final_snapshot_identifier(props),
            deletion_protection=props.deletion_protection,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=props.storage_kms_key_arn,
            performance_insights_retention_period=settings.performance_insights_retention_days,
            monitoring_interval=settings.monitoring_interval_seconds,
            monitoring_role_arn=props.monitoring_role_arn,
            enabled_cloudwatch_logs_exports=list(settings.log_exports),
            apply_immediately=settings.apply_immediately,
            blue_green_update=aws.db_instance.DbInstanceBlueGreenUpdate(enabled=True)
            if settings.blue_green_update
            else None,
            tags=dict(props.tags) or None,
            depends_on=list(self.log_groups),
            # Both are read at creation only: a different snapshot (or none) later must not
            # replace a live database, and the final snapshot keeps the name it was born with.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["snapshot_identifier", "final_snapshot_identifier"]),
        )
        self.identifier: str = self.instance.identifier
        self.endpoint: str = self.instance.endpoint
        self.address: str = self.instance.address
        self.port: int = settings.port
        self.arn: str = self.instance.arn
        self.resource_id: str = self.instance.resource_id
        self.master_user_secret_arn: str = (
            self.external_secret.arn
            if self.external_secret is not None
            else self.instance.master_user_secret.get(0).secret_arn
        )

    @staticmethod
    def _final_snapshot_identifier(props: PostgresInstanceProps) -> str:
        # Deterministic: a timestamped name would change every synth.
        if props.restore_snapshot_identifier is None:
            return f"{props.identifier}-final"
        digest = Fn.substr(Fn.sha256(props.restore_snapshot_identifier), 0, 12)
        return f"{props.identifier}-final-{digest}"

    def _master_password(self, props: PostgresInstanceProps) -> dict:
        settings = props.settings
        self.external_secret = None
        if settings.master_password_secret_id is None:
            return {"manage_master_user_password": True, "master_user_secret_kms_key_id": props.secret_kms_key_arn}
        ref = settings.master_password_secret_id
        lookup = {"arn": ref} if ref.startswith("arn:") else {"name": ref}
        # Metadata only (ARN, name): the value is not read by a data source, which would store it in state.
        self.external_secret = aws.data_aws_secretsmanager_secret.DataAwsSecretsmanagerSecret(
            self, "master-password-secret", **lookup
        )
        # cdktf 0.21 has no ephemeral resource classes: declare it on the stack directly.
        ephemeral = props.identifier.replace("-", "_") + "_master_password"
        TerraformStack.of(self).add_override(
            f"ephemeral.aws_secretsmanager_secret_version.{ephemeral}", {"secret_id": self.external_secret.arn}
        )
        return {
            "password_wo": (
                f'${{jsondecode(ephemeral.aws_secretsmanager_secret_version.{ephemeral}.secret_string)["password"]}}'
            ),
            "password_wo_version": settings.master_password_version,
        }

    @staticmethod
    def _validate(id_: str, props: PostgresInstanceProps) -> None:
        where = f"PostgresInstance {id_}"
        settings = props.settings
        check(props.identifier, ResourceKind.RDS_INSTANCE)
        settings.validate(where)
        if not props.security_group_ids:
            raise ValidationError(f"{where}: security_group_ids must name at least one group, got ()")
        for name, arn in (
            ("storage_kms_key_arn", props.storage_kms_key_arn),
            ("secret_kms_key_arn", props.secret_kms_key_arn),
            ("log_kms_key_arn", props.log_kms_key_arn),
        ):
            if not Token.is_unresolved(arn) and not arn.startswith("arn:"):
                raise ValidationError(f"{where}: {name} must be a KMS key ARN, got {arn!r}")

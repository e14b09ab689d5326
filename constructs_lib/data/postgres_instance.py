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

from cdktf import Fn, TerraformResourceLifecycle, TerraformStack, Token
from constructs import Construct

from constructs_lib.data.postgres_instance_props import PostgresInstanceProps
from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupProps
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws

# Root CA with a 2061 expiry; rds-ca-2019 (the old default) expired in 2024.
CA_CERT_IDENTIFIER = "rds-ca-rsa2048-g1"


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

"""``data-<env>``: the blue/green PostgreSQL databases, their security group and secrets.

Outside a switch only the active colour exists (``blue_green.standby: absent``).

Secrets: RDS generates the master password and keeps it in Secrets Manager,
encrypted with the ``secrets`` key; the stack exports the secret's ARN, never a
value. Applications should prefer IAM database authentication.
"""

from __future__ import annotations

from constructs import Construct

from constructs_lib import tagging
from constructs_lib.data.blue_green_database import BlueGreenDatabase
from constructs_lib.data.blue_green_database_props import BlueGreenDatabaseProps
from constructs_lib.data.postgres_instance_props import PostgresSettings
from constructs_lib.naming import ResourceKind
from constructs_lib.security.data_tier_security_group import DataTierSecurityGroup, DataTierSecurityGroupProps
from stacks.base import EnvironmentStack, StackContext
from stacks.compute import ComputeStack
from stacks.networking import NetworkingStack
from stacks.outputs import export
from stacks.security import SecurityStack

POSTGRES_PORT = 5432


class DataStack(EnvironmentStack):
    """Exposes ``database`` (:class:`BlueGreenDatabase`: ``active_database_identifier``,
    ``active_database_endpoint``, ...) and ``security_group`` (:class:`DataTierSecurityGroup`)."""

    function = "data"

    def __init__(
        self,
        scope: Construct,
        ctx: StackContext,
        *,
        security: SecurityStack,
        networking: NetworkingStack,
        compute: ComputeStack,
    ):
        super().__init__(scope, ctx)
        # Here rather than in the security stack: the source group belongs to the
        # compute stack, downstream of security (a data SG there would be a cycle).
        self.security_group = DataTierSecurityGroup(
            self,
            "postgres-sg",
            DataTierSecurityGroupProps(
                name=self.naming.name("data", "postgres-sg", kind=ResourceKind.SECURITY_GROUP),
                description="PostgreSQL blue/green: EKS nodes only",
                vpc_id=networking.network.vpc_id,
                port=POSTGRES_PORT,
                source_security_group_ids=(compute.cluster.node_security_group_id,),
            ),
        )
        tagging.set_component(self.security_group, "data")
        self.database = BlueGreenDatabase(self, "postgres", self._database_props(ctx, security, networking))
        tagging.set_component(self.database, "data")

        self.output("active_database", self.database.active, "Colour of the active database (config blue_green.active)")
        export(
            self,
            self.database,
            active_database_identifier="RDS identifier of the active database",
            active_database_endpoint="host:port of the active database",
            active_master_user_secret_arn="Secrets Manager ARN of the active database's RDS-managed master credentials "
            "(the value is never exported)",
        )
        # Only the colours that exist: outside a switch, the active one alone.
        for colour, identifier in self.database.database_identifiers.items():
            self.output(f"{colour}_database_identifier", identifier, f"RDS identifier of the {colour} database")
        export(self, self.security_group, prefix="database_", security_group_id="Security group of the databases")

    def _database_props(
        self, ctx: StackContext, security: SecurityStack, networking: NetworkingStack
    ) -> BlueGreenDatabaseProps:
        cfg, name = ctx.config, self.naming.name
        db = cfg.database
        return BlueGreenDatabaseProps(
            identifiers={
                colour: name("data", "postgres", suffix=colour, kind=ResourceKind.RDS_INSTANCE)
                for colour in ("blue", "green")
            },
            active=cfg.blue_green.active,
            standby_provisioned=cfg.blue_green.standby == "provisioned",
            standby_snapshot_identifier=cfg.blue_green.standby_snapshot,
            settings=PostgresSettings(
                engine_version=db.engine_version,
                instance_class=db.instance_class,
                allocated_storage_gb=db.allocated_storage_gb,
                max_allocated_storage_gb=db.max_allocated_storage_gb,
                multi_az=cfg.resilience.multi_az,
                backup_retention_days=db.backup_retention_days,
                backup_window=db.backup_window,
                maintenance_window=db.maintenance_window,
                performance_insights_retention_days=db.performance_insights_retention_days,
                monitoring_interval_seconds=db.monitoring_interval_seconds,
                log_exports=tuple(db.log_exports),
                log_retention_days=cfg.logging.retention_days,
                apply_immediately=db.apply_immediately,
                blue_green_update=db.blue_green_update,
                master_password_secret_id=db.master_password_secret_id,
                master_password_version=db.master_password_version,
                port=POSTGRES_PORT,
            ),
            subnet_ids=tuple(networking.network.database_subnet_ids),
            security_group_ids=(self.security_group.security_group_id,),
            storage_kms_key_arn=security.kms_key_arn("data"),
            secret_kms_key_arn=security.kms_key_arn("secrets"),
            log_kms_key_arn=security.kms_key_arn("logs"),
            subnet_group_name=name("data", "db-subnets"),
            parameter_group_name=name("data", f"pg{db.major_version}"),
            monitoring_role_name=name("data", "rds-monitoring", kind=ResourceKind.IAM_ROLE),
            parameters=dict(db.parameters),
        )

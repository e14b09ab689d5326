"""``BlueGreenDatabase``: the seed's blue/green PostgreSQL pair.

Two identical instances, ``blue`` and ``green``, in the isolated database
subnets. Configuration names the active one: it alone has deletion protection,
and its endpoint is what the stack exports and applications use. Switching is a
two-step change: point ``blue_green.active`` at the other colour (the new active
one becomes protected, the old one loses protection), then retire or rebuild the
inactive one. Data is not copied between them by this construct.

RDS's own Blue/Green Deployments (``PostgresSettings.blue_green_update``) are a
separate, per-instance mechanism for engine upgrades; both can be used together.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from constructs_lib import guards
from constructs_lib.data.db_parameter_group import DbParameterGroup, DbParameterGroupProps
from constructs_lib.data.postgres_instance import PostgresInstance, PostgresInstanceProps, PostgresSettings
from constructs_lib.errors import ValidationError
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.iam_role import IamRole, IamRoleProps
from constructs_lib.security.policy import Condition, Principal

COLOURS = ("blue", "green")


@dataclass(frozen=True)
class BlueGreenDatabaseProps:
    identifiers: dict[str, str]
    """RDS identifier per colour: ``{"blue": ..., "green": ...}``."""
    active: str
    """The colour applications use: ``blue`` or ``green`` (config ``blue_green.active``)."""
    settings: PostgresSettings
    """Engine, size, durability and observability of both instances."""
    subnet_ids: tuple[str, ...]
    """Isolated database subnets, one per AZ (RDS needs at least two AZs)."""
    security_group_ids: tuple[str, ...]
    """Security groups of both instances (the data-tier group)."""
    storage_kms_key_arn: str
    """Key for storage, snapshots and Performance Insights (the ``data`` key)."""
    secret_kms_key_arn: str
    """Key of the RDS-managed master user secrets (the ``secrets`` key)."""
    log_kms_key_arn: str
    """Key of the exported logs (the ``logs`` key)."""
    subnet_group_name: str
    """Name of the DB subnet group created here."""
    parameter_group_name: str
    """Name of the parameter group created here (include the engine major)."""
    monitoring_role_name: str
    """Name of the Enhanced Monitoring role created here."""
    parameters: dict[str, str] | None = None
    """Extra parameter group values (``rds.force_ssl`` is always 1). Default: none."""


class BlueGreenDatabase(Construct):
    """Outputs: ``instances`` (colour -> ``PostgresInstance``), ``database_identifiers``
    (colour -> identifier), ``active``, ``active_database_identifier``,
    ``active_database_endpoint``, ``active_database_address``, ``active_master_user_secret_arn``,
    ``subnet_group_name``, ``parameter_group_name``, ``monitoring_role_arn``.
    """

    def __init__(self, scope: Construct, id_: str, props: BlueGreenDatabaseProps):
        super().__init__(scope, id_)
        self._validate(id_, props)
        settings = props.settings

        self.subnet_group = aws.db_subnet_group.DbSubnetGroup(
            self,
            "subnet-group",
            name=props.subnet_group_name,
            description="Isolated database subnets (no route to the internet)",
            subnet_ids=list(props.subnet_ids),
        )
        self.parameter_group = DbParameterGroup(
            self,
            "parameters",
            DbParameterGroupProps(
                name=props.parameter_group_name,
                family=f"postgres{settings.major_version}",
                parameters=dict(props.parameters or {}),
            ),
        )
        self._validate_blue_green_update(id_, settings, self.parameter_group.parameters)

        identity = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "identity")
        partition = aws.data_aws_partition.DataAwsPartition(self, "partition")
        self.monitoring_role = IamRole(
            self,
            "monitoring-role",
            IamRoleProps(
                role_name=props.monitoring_role_name,
                description="RDS Enhanced Monitoring publishes OS metrics of the blue/green databases",
                assumed_by=(Principal("Service", ("monitoring.rds.amazonaws.com",)),),
                trust_conditions=(Condition("StringEquals", "aws:SourceAccount", (identity.account_id,)),),
                managed_policy_arns=(
                    f"arn:{partition.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
                ),
            ),
        )

        self.instances: dict[str, PostgresInstance] = {}
        for colour in COLOURS:
            self.instances[colour] = PostgresInstance(
                self,
                colour,
                PostgresInstanceProps(
                    identifier=props.identifiers[colour],
                    settings=settings,
                    subnet_group_name=self.subnet_group.name,
                    security_group_ids=props.security_group_ids,
                    parameter_group_name=self.parameter_group.name,
                    storage_kms_key_arn=props.storage_kms_key_arn,
                    secret_kms_key_arn=props.secret_kms_key_arn,
                    log_kms_key_arn=props.log_kms_key_arn,
                    monitoring_role_arn=self.monitoring_role.role_arn,
                    # The seed's rule: only the active database is protected, so the
                    # inactive one can be rebuilt or retired without a manual step.
                    deletion_protection=colour == props.active,
                ),
            )
            if colour != props.active:
                guards.mark_standby(self.instances[colour], "inactive blue/green colour, retired or rebuilt without a manual step")
        active = self.instances[props.active]
        self.active: str = props.active
        self.database_identifiers: dict[str, str] = {c: i.identifier for c, i in self.instances.items()}
        self.active_database_identifier: str = active.identifier
        self.active_database_endpoint: str = active.endpoint
        self.active_database_address: str = active.address
        self.active_master_user_secret_arn: str = active.master_user_secret_arn
        self.subnet_group_name: str = self.subnet_group.name
        self.parameter_group_name: str = self.parameter_group.name
        self.monitoring_role_arn: str = self.monitoring_role.role_arn

    @staticmethod
    def _validate(id_: str, props: BlueGreenDatabaseProps) -> None:
        where = f"BlueGreenDatabase {id_}"
        props.settings.validate(where)
        if props.active not in COLOURS:
            raise ValidationError(f"{where}: active must be 'blue' or 'green', got {props.active!r}")
        if sorted(props.identifiers) != sorted(COLOURS):
            raise ValidationError(
                f"{where}: identifiers must have exactly the keys 'blue' and 'green', got {sorted(props.identifiers)!r}"
            )
        if props.identifiers["blue"] == props.identifiers["green"]:
            raise ValidationError(f"{where}: identifiers must differ, got {props.identifiers['blue']!r} twice")
        for identifier in props.identifiers.values():
            check(identifier, ResourceKind.RDS_INSTANCE)
        # RDS refuses a subnet group that spans fewer than two AZs.
        if len(props.subnet_ids) < 2:
            raise ValidationError(
                f"{where}: subnet_ids must list at least two subnets (one per AZ), got {len(props.subnet_ids)}"
            )

    @staticmethod
    def _validate_blue_green_update(id_: str, settings: PostgresSettings, parameters: dict[str, str]) -> None:
        # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/blue-green-deployments-creating.html
        if not settings.blue_green_update:
            return
        where = f"BlueGreenDatabase {id_}"
        # Backups (the other prerequisite) are checked by PostgresSettings.validate.
        if parameters.get("rds.logical_replication") != "1":
            raise ValidationError(
                f"{where}: blue_green_update needs parameters['rds.logical_replication'] = '1' for PostgreSQL, "
                f"got {parameters.get('rds.logical_replication')!r}"
            )

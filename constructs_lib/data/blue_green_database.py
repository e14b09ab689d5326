"""``BlueGreenDatabase``: the seed's blue/green PostgreSQL pair, paid for twice only during a switch.

Two colours, ``blue`` and ``green``, in the isolated database subnets. ``active``
names the one applications use: it alone has deletion protection, and its
endpoint is what the stack exports. The other colour, the standby, exists only
while ``standby_provisioned``: it is created from a snapshot of the active one
(the latest, found by an ``aws_db_snapshot`` lookup at plan time, or a named one),
so it starts with the active one's data. Outside a switch only the active
instance exists.

A switch is four deployments (docs/constructs/data.md): provision the standby,
verify it, point ``active`` at it, retire the old colour. Each instance carries a
``BlueGreenRole`` tag (``active`` or ``standby``) that the pull-request review reads
to tell the switch's expected destruction of a standby from any other.

RDS's own Blue/Green Deployments (``PostgresSettings.blue_green_update``) are a
separate, per-instance mechanism for engine upgrades and parameter changes, run
by RDS inside the active colour; both can be used together.
"""

from __future__ import annotations

from cdktf import Postcondition, TerraformResourceLifecycle
from constructs import Construct

from constructs_lib import guards
from constructs_lib.data.blue_green_database_props import ACTIVE, COLOURS, ROLE_TAG, STANDBY, BlueGreenDatabaseProps
from constructs_lib.data.db_parameter_group import DbParameterGroup, DbParameterGroupProps
from constructs_lib.data.postgres_instance import PostgresInstance
from constructs_lib.data.postgres_instance_props import PostgresInstanceProps, PostgresSettings
from constructs_lib.errors import ValidationError
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.iam_role import IamRole, IamRoleProps
from constructs_lib.security.policy import Condition, Principal


class BlueGreenDatabase(Construct):
    """Outputs: ``instances`` (colour -> ``PostgresInstance``, the colours that exist),
    ``database_identifiers`` (colour -> identifier, the colours that exist), ``active``,
    ``standby`` (the other colour), ``standby_source`` (its snapshot lookup, or None),
    ``active_database_identifier``,
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

        self.standby: str = "green" if props.active == "blue" else "blue"
        self.standby_source: aws.data_aws_db_snapshot.DataAwsDbSnapshot | None = None
        colours = [c for c in COLOURS if c == props.active or props.standby_provisioned]
        self.instances: dict[str, PostgresInstance] = {}
        for colour in colours:
            is_active = colour == props.active
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
                    # standby can be retired without a manual step.
                    deletion_protection=is_active,
                    restore_snapshot_identifier=None if is_active else self._standby_source(props).id,
                    tags={ROLE_TAG: ACTIVE if is_active else STANDBY},
                ),
            )
            if not is_active:
                guards.mark_standby(self.instances[colour], "blue/green standby, retired at the end of every switch")
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

    def _standby_source(self, props: BlueGreenDatabaseProps) -> aws.data_aws_db_snapshot.DataAwsDbSnapshot:
        """The snapshot the standby starts from, looked up (and checked) when the plan runs."""
        if self.standby_source is None:
            named = props.standby_snapshot_identifier
            where = {"db_snapshot_identifier": named} if named else {
                "db_instance_identifier": props.identifiers[props.active],
                # Automated and manual snapshots alike: a manual one taken just before the
                # switch is the newest. The lookup fails the plan if there is none at all.
                "most_recent": True,
            }
            self.standby_source = aws.data_aws_db_snapshot.DataAwsDbSnapshot(
                self,
                "standby-source",
                **where,
                lifecycle=TerraformResourceLifecycle(
                    postcondition=[
                        # A restore from a snapshot still being written fails minutes into the apply.
                        Postcondition(
                            condition='${self.status == "available"}',
                            error_message="The snapshot the blue/green standby is restored from is not available "
                            "yet: wait for it (aws rds wait db-snapshot-available) and plan again.",
                        ),
                        Postcondition(
                            condition='${self.engine == "postgres"}',
                            error_message="The snapshot the blue/green standby is restored from is not a "
                            "PostgreSQL snapshot: check blue_green.standby_snapshot.",
                        ),
                    ]
                ),
            )
        return self.standby_source

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
        if props.standby_snapshot_identifier is not None and not props.standby_provisioned:
            raise ValidationError(
                f"{where}: standby_snapshot_identifier is read only with standby_provisioned, "
                f"got {props.standby_snapshot_identifier!r} without it"
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

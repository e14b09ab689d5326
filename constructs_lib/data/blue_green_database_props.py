"""Props of :class:`~constructs_lib.data.blue_green_database.BlueGreenDatabase` and the tag that
names each instance's role, which the pull-request review reads (the review and deploy
commands start no jsii runtime). No cdktf here (``constructs_lib/__init__.py`` says why).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.data.postgres_instance_props import PostgresSettings

COLOURS = ("blue", "green")
ROLE_TAG = "BlueGreenRole"
"""Tag on each instance: ``active`` or ``standby`` (read by the review, useful in Cost Explorer)."""
ACTIVE, STANDBY = "active", "standby"


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
    standby_provisioned: bool = False
    """Whether the standby colour exists (config ``blue_green.standby``). Default: off,
    only the active colour exists."""
    standby_snapshot_identifier: str | None = None
    """Snapshot the standby is created from (config ``blue_green.standby_snapshot``).
    Default: none, the latest snapshot of the active instance when the plan runs.
    Only with ``standby_provisioned``."""

"""``DbParameterGroup``: a PostgreSQL parameter group that enforces TLS.

``rds.force_ssl=1`` is always set (RDS then refuses unencrypted connections) and
cannot be overridden; connection logging is on so that the exported
``postgresql`` log records who connected from where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.providers import aws

# Parameters the engine reads only at start: RDS refuses "immediate" for them.
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Parameters.html
STATIC_PARAMETERS = frozenset(
    {
        "rds.logical_replication",
        "shared_preload_libraries",
        "max_connections",
        "max_wal_senders",
        "max_replication_slots",
        "max_worker_processes",
        "wal_buffers",
        "track_activity_query_size",
    }
)

ENFORCED_PARAMETERS = {"rds.force_ssl": "1"}
DEFAULT_PARAMETERS = {"log_connections": "1", "log_disconnections": "1"}

_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,254}(?<!-)$")
_FAMILY = re.compile(r"^postgres\d{2}$")


@dataclass(frozen=True)
class DbParameterGroupProps:
    name: str
    """Group name; include the family so a major upgrade can create the new group first."""
    family: str
    """Parameter group family, ``postgres<major>`` (e.g. ``postgres16``)."""
    parameters: dict[str, str] = field(default_factory=dict)
    """Values on top of the defaults (``log_connections``, ``log_disconnections`` = 1).
    ``rds.force_ssl`` is always 1. Default: none."""
    description: str = "PostgreSQL parameters: TLS only, connection logging"
    """Shown in the RDS console."""


class DbParameterGroup(Construct):
    """Outputs: ``name``, ``parameters`` (the effective values, by name)."""

    def __init__(self, scope: Construct, id_: str, props: DbParameterGroupProps):
        super().__init__(scope, id_)
        where = f"DbParameterGroup {id_}"
        if not _NAME.fullmatch(props.name):
            raise ValidationError(
                f"{where}: name must be lowercase letters, digits and single '-', starting with a letter, got {props.name!r}"
            )
        if not _FAMILY.fullmatch(props.family):
            raise ValidationError(f"{where}: family must be 'postgres<major>', got {props.family!r}")
        for key, value in ENFORCED_PARAMETERS.items():
            if props.parameters.get(key, value) != value:
                raise ValidationError(f"{where}: parameters[{key!r}] must be {value!r}, got {props.parameters[key]!r}")
        effective = {**DEFAULT_PARAMETERS, **props.parameters, **ENFORCED_PARAMETERS}
        self.parameter_group = aws.db_parameter_group.DbParameterGroup(
            self,
            "group",
            name=props.name,
            family=props.family,
            description=props.description,
            parameter=[
                aws.db_parameter_group.DbParameterGroupParameter(
                    name=key,
                    value=value,
                    apply_method="pending-reboot" if key in STATIC_PARAMETERS else "immediate",
                )
                for key, value in sorted(effective.items())
            ],
            # Instances point at the group: a replacement must exist before the old one goes.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.name: str = self.parameter_group.name
        self.parameters: dict[str, str] = effective

"""``blue_green:``: which database colour serves, and whether its standby exists.

Outside a switch only the active colour exists (``standby: absent``): the project
pays for one database, not two. A switch is four changes of this section, each
deployed and reviewed on its own (docs/constructs/data.md, "Switching blue and green"):

1. ``standby: provisioned``: the other colour is restored from the latest snapshot of
   the active one (or from ``standby_snapshot``), so it starts with its data;
2. verify it (no change here);
3. ``active: <other colour>``: traffic and deletion protection move to it;
4. ``standby: absent``: the old colour is deleted (its final snapshot is kept).

This is the project's own two-colour pattern, for changes RDS cannot make in place
(a new KMS key, a smaller disk, a rebuild). ``database.blue_green_update`` is a
different thing: RDS Blue/Green Deployments, which RDS runs inside one colour for
engine upgrades and parameter changes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sophia_config.types import Model

# A manual snapshot ("my-snapshot-1") or an automated one ("rds:<instance>-2025-06-01-03-05"):
# a letter first, letters, digits and single hyphens, no hyphen at the end (RDS's rules).
SnapshotIdentifier = Annotated[
    str, Field(pattern=r"^(rds:)?[A-Za-z](-?[A-Za-z0-9])*$", max_length=255)
]


class BlueGreenConfig(Model):
    """The colour that serves and the lifecycle of the other one."""

    active: Literal["blue", "green"]
    """The colour applications use; only it has deletion protection."""
    standby: Literal["absent", "provisioned"] = "absent"
    """``absent`` (default): only the active colour exists. ``provisioned``: the other
    colour exists too, restored from a snapshot of the active one when it is created."""
    standby_snapshot: SnapshotIdentifier | None = None
    """Snapshot the standby is restored from. Default: none, the latest snapshot of the
    active colour (automated or manual) at the time of the plan. Name one taken while
    writes were stopped to switch without losing a write. Only with ``standby: provisioned``."""

    @model_validator(mode="after")
    def _snapshot_only_while_provisioned(self) -> BlueGreenConfig:
        # A name left behind after a switch would silently seed the next standby from
        # an old snapshot: it has to go when the standby goes.
        if self.standby_snapshot is not None and self.standby != "provisioned":
            raise ValueError(
                f"standby_snapshot is read only while standby is 'provisioned' (remove it when the standby is "
                f"retired, so the next switch cannot start from an old snapshot), got standby {self.standby!r}"
            )
        return self

    @property
    def standby_colour(self) -> str:
        """The colour that is not active (whether or not it exists)."""
        return "green" if self.active == "blue" else "blue"

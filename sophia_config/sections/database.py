"""``database:``: the blue/green PostgreSQL instances of the ``data`` stack.

Which of the two is active is ``blue_green.active``; Multi-AZ is
``resilience.multi_az``. Credentials are not configuration: RDS generates the
master password and keeps it in Secrets Manager, or, where RDS-managed passwords
are not supported (``blue_green_update``), ``master_password_secret_id`` *names* a
Secrets Manager secret created outside Terraform. No value is ever written here.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, model_validator

from constructs_lib.data.postgres_instance_props import (
    ALLOCATED_STORAGE_GB,
    ENGINE_VERSION_PATTERN,
    LOG_EXPORTS,
    MAX_BACKUP_RETENTION_DAYS,
    MONITORING_INTERVALS,
    PERFORMANCE_INSIGHTS_RETENTION_DAYS,
    SECRET_REF_PATTERN,
    PostgresSettings,
)
from sophia_config.types import Model

StorageGb = Annotated[int, Field(ge=ALLOCATED_STORAGE_GB[0], le=ALLOCATED_STORAGE_GB[1])]
_WINDOW = r"(mon|tue|wed|thu|fri|sat|sun):[0-2]\d:[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):[0-2]\d:[0-5]\d"


class DatabaseConfig(Model):
    """Size, durability and observability of the PostgreSQL databases."""

    engine_version: Annotated[str, Field(pattern=ENGINE_VERSION_PATTERN)]
    """PostgreSQL major (``16``: RDS picks the current minor, and its automatic minor
    upgrades never show as drift) or ``<major>.<minor>`` to pin one. The parameter group
    family follows the major."""
    instance_class: Annotated[str, Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")]
    """RDS instance class, e.g. ``db.t4g.medium``."""
    allocated_storage_gb: StorageGb
    """Initial gp3 storage, GiB (20 is the RDS minimum for PostgreSQL)."""
    max_allocated_storage_gb: StorageGb
    """Storage autoscaling ceiling, GiB; equal to ``allocated_storage_gb`` turns autoscaling off."""
    backup_retention_days: Annotated[int, Field(ge=0, le=MAX_BACKUP_RETENTION_DAYS)]
    """Automated backups kept this many days (0 disables them and point-in-time recovery)."""
    backup_window: Annotated[str, Field(pattern=r"^[0-2]\d:[0-5]\d-[0-2]\d:[0-5]\d$")]
    """Daily UTC backup window ``hh:mm-hh:mm``; must not overlap ``maintenance_window``."""
    maintenance_window: Annotated[str, Field(pattern=rf"^{_WINDOW}$")]
    """Weekly UTC maintenance window ``ddd:hh:mm-ddd:hh:mm``."""
    performance_insights_retention_days: int
    """Performance Insights retention: 7 (free tier) or a multiple of 31 up to 731."""
    monitoring_interval_seconds: Literal[MONITORING_INTERVALS]  # type: ignore[valid-type]
    """Enhanced Monitoring granularity (OS metrics); it is always on."""
    log_exports: list[Literal[LOG_EXPORTS]]  # type: ignore[valid-type]
    """PostgreSQL logs exported to CloudWatch Logs."""
    apply_immediately: bool
    """Apply modifications now (true) or in the next maintenance window (false)."""
    blue_green_update: bool
    """Let RDS perform engine upgrades and other disruptive changes through an RDS
    Blue/Green Deployment (``blue_green_update``); needs backups and logical replication."""
    master_password_secret_id: Annotated[str | None, Field(pattern=SECRET_REF_PATTERN)] = None
    """Secret id (name or ARN) of an existing Secrets Manager secret with a JSON ``password`` key, used
    instead of an RDS-managed password; required with ``blue_green_update`` (RDS Blue/Green
    Deployments do not support RDS-managed master passwords)."""
    master_password_version: Annotated[int, Field(ge=1)] = PostgresSettings.master_password_version
    """Bump after changing the secret so Terraform sends the new password (write-only argument)."""
    parameters: dict[str, str] = {}
    """Extra DB parameter group values (``rds.force_ssl`` is always ``1`` and cannot be changed here)."""

    @model_validator(mode="after")
    def _consistent(self) -> DatabaseConfig:
        if self.max_allocated_storage_gb < self.allocated_storage_gb:
            raise ValueError(
                f"max_allocated_storage_gb must be >= allocated_storage_gb, got "
                f"max_allocated_storage_gb={self.max_allocated_storage_gb}, allocated_storage_gb={self.allocated_storage_gb}"
            )
        if self.performance_insights_retention_days not in PERFORMANCE_INSIGHTS_RETENTION_DAYS:
            raise ValueError(
                "performance_insights_retention_days must be 7 or a multiple of 31 up to 731, "
                f"got {self.performance_insights_retention_days}"
            )
        if self.parameters.get("rds.force_ssl", "1") != "1":
            raise ValueError(
                f"parameters.rds.force_ssl must stay '1' (TLS only), got {self.parameters['rds.force_ssl']!r}"
            )
        if self.blue_green_update:
            # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/blue-green-deployments-considerations.html
            if self.backup_retention_days < 1:
                raise ValueError(
                    f"blue_green_update needs automated backups: backup_retention_days must be >= 1, "
                    f"got {self.backup_retention_days}"
                )
            if self.master_password_secret_id is None:
                raise ValueError(
                    "blue_green_update needs master_password_secret_id (a Secrets Manager secret name or ARN): "
                    "RDS Blue/Green Deployments do not support RDS-managed master passwords, got None"
                )
            if self.parameters.get("rds.logical_replication") != "1":
                raise ValueError(
                    "blue_green_update needs logical replication for PostgreSQL: set "
                    f"parameters.rds.logical_replication to '1', got {self.parameters.get('rds.logical_replication')!r}"
                )
        if _overlaps(self.backup_window, self.maintenance_window):
            raise ValueError(
                f"backup_window {self.backup_window!r} overlaps maintenance_window {self.maintenance_window!r}"
            )
        return self

    @property
    def major_version(self) -> str:
        return self.engine_version.split(".")[0]


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _overlaps(backup: str, maintenance: str) -> bool:
    """Whether the daily backup window meets the weekly maintenance window (RDS refuses that)."""
    week = 7 * 1440
    start, end = (_minutes(t) for t in backup.split("-"))
    daily = _span(start, end, 1440)
    backup_minutes = {(day * 1440 + minute) % week for day in range(7) for minute in daily}
    m = re.fullmatch(r"(\w{3}):(\d\d:\d\d)-(\w{3}):(\d\d:\d\d)", maintenance)
    assert m is not None  # the field pattern guarantees the shape
    m_start = _DAYS.index(m.group(1)) * 1440 + _minutes(m.group(2))
    m_end = _DAYS.index(m.group(3)) * 1440 + _minutes(m.group(4))
    return not backup_minutes.isdisjoint(_span(m_start, m_end, week))


def _span(start: int, end: int, period: int) -> set[int]:
    """Minutes from ``start`` up to ``end`` on a clock of ``period`` minutes (wrapping)."""
    length = (end - start) % period
    return {(start + offset) % period for offset in range(length)}

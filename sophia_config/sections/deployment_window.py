"""``deployment:`` window fields: when ``deploy`` may change an environment.

The seed's ``deploymentWindow`` named a policy (``any``, ``business-hours``,
``maintenance-window``) but not its hours; here the hours are data, in the
environment's own time zone, so that a reviewer reads "Sunday 22:00 for 4 hours,
America/Los_Angeles" in the config rather than in code.

Times are local wall-clock times in ``time_zone``; a maintenance window's
duration is elapsed time, so a window that spans a daylight-saving change still
lasts exactly ``duration_minutes`` (see ``sophia_infra/deploy_window.py``).
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, model_validator

from sophia_config.types import Model

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Index = ``datetime.weekday()``."""

ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
"""``HH:MM``, 24-hour clock, as a quoted string in YAML (``"22:00"``)."""


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown IANA time zone (e.g. 'UTC', 'America/Los_Angeles', 'Europe/Berlin')") from None
    return value


TimeZone = Annotated[str, AfterValidator(_zone)]


def clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class BusinessHours(Model):
    """Working hours during which a deployment may start (``window: business-hours``)."""

    days: Annotated[list[Weekday], Field(min_length=1)]
    """Working days, e.g. ``[mon, tue, wed, thu, fri]``."""
    start: ClockTime
    """Local time the working day starts (``"09:00"``)."""
    end: ClockTime
    """Local time after which no deployment starts (``"17:00"``); later than ``start``."""

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if clock(self.end) <= clock(self.start):
            raise ValueError(f"end must be later than start, got start={self.start!r}, end={self.end!r}")
        return self


class MaintenanceWindow(Model):
    """A weekly window (``window: maintenance-window``); it may run past midnight."""

    day: Weekday
    """Day the window opens (``sun``)."""
    start: ClockTime
    """Local time the window opens (``"22:00"``)."""
    duration_minutes: Annotated[int, Field(ge=15, le=24 * 60)]
    """How long the window stays open, in elapsed minutes (``240``: Sunday 22:00 to Monday 02:00)."""

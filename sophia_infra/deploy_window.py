"""When a deployment may start: the environment's ``deployment.window``.

* ``any``: always.
* ``business-hours``: on ``business_hours.days`` from ``start`` to ``end``, local time.
* ``maintenance-window``: weekly, opening on ``maintenance_window.day`` at
  ``start`` local time and lasting ``duration_minutes`` of elapsed time, so a
  window may run past midnight (Sunday 22:00 + 240 min = Monday 02:00).

All times are wall-clock times in ``deployment.time_zone``. Around daylight-saving
changes: a start time that does not exist that day (inside the spring-forward
gap) opens at the equivalent instant after the gap; one that occurs twice (the
fall-back hour) opens at the first occurrence; durations are elapsed time.
Python's aware-datetime arithmetic is wall-clock arithmetic, so every instant
here is computed in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sophia_config import DeploymentPolicy
from sophia_config.sections.deployment_window import WEEKDAYS, clock

_DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday", "sat": "Saturday", "sun": "Sunday"}


@dataclass(frozen=True)
class Opening:
    """One occurrence of a window, as UTC instants (``start`` inclusive, ``end`` exclusive)."""

    start: datetime
    end: datetime

    def contains(self, now: datetime) -> bool:
        return self.start <= now < self.end


@dataclass(frozen=True)
class WindowStatus:
    open: bool
    current: Opening | None
    """The occurrence ``now`` is in, if open (None for ``any``)."""
    next: Opening | None
    """The next occurrence that starts after ``now`` (None for ``any``)."""
    description: str
    time_zone: ZoneInfo

    def local(self, instant: datetime) -> str:
        return instant.astimezone(self.time_zone).strftime("%a %Y-%m-%d %H:%M %Z")


def _utc(local_date, hhmm: str, tz: ZoneInfo) -> datetime:
    """The UTC instant of ``hhmm`` wall-clock time on ``local_date`` in ``tz``."""
    naive = datetime.combine(local_date, clock(hhmm))
    aware = naive.replace(tzinfo=tz)  # fold=0: the first of two repeated times
    instant = aware.astimezone(UTC)
    # A wall time inside a spring-forward gap does not round-trip; zoneinfo maps
    # it with the pre-gap offset, which lands after the gap: the next valid instant.
    return instant


def describe(policy: DeploymentPolicy) -> str:
    zone = policy.time_zone
    if policy.window == "business-hours" and policy.business_hours:
        hours = policy.business_hours
        days = ", ".join(hours.days)
        return f"business hours {days} {hours.start}-{hours.end} ({zone})"
    if policy.window == "maintenance-window" and policy.maintenance_window:
        mw = policy.maintenance_window
        start = clock(mw.start)
        end = (datetime.combine(datetime(2000, 1, 2).date(), start) + timedelta(minutes=mw.duration_minutes))
        day_index = WEEKDAYS.index(mw.day)
        end_day = WEEKDAYS[(day_index + (end.date() - datetime(2000, 1, 2).date()).days) % 7]
        return (
            f"maintenance window {_DAY_NAMES[mw.day]} {mw.start} to {_DAY_NAMES[end_day]} "
            f"{end.strftime('%H:%M')} ({mw.duration_minutes} min, {zone})"
        )
    return "any time"


def openings(policy: DeploymentPolicy, now: datetime) -> list[Opening]:
    """Every occurrence of the window that overlaps the 8 days before and after ``now``, in order."""
    tz = ZoneInfo(policy.time_zone)
    today = now.astimezone(tz).date()
    found = []
    for offset in range(-8, 9):
        day = today + timedelta(days=offset)
        weekday = WEEKDAYS[day.weekday()]
        if policy.window == "business-hours" and policy.business_hours and weekday in policy.business_hours.days:
            hours = policy.business_hours
            found.append(Opening(_utc(day, hours.start, tz), _utc(day, hours.end, tz)))
        elif policy.window == "maintenance-window" and policy.maintenance_window and weekday == policy.maintenance_window.day:
            mw = policy.maintenance_window
            start = _utc(day, mw.start, tz)
            found.append(Opening(start, start + timedelta(minutes=mw.duration_minutes)))
    return found


def status(policy: DeploymentPolicy, now: datetime) -> WindowStatus:
    """Whether ``now`` (an aware datetime) is inside ``policy``'s window, and the next opening."""
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    tz = ZoneInfo(policy.time_zone)
    text = describe(policy)
    if policy.window == "any":
        return WindowStatus(True, None, None, text, tz)
    now = now.astimezone(UTC)
    occurrences = openings(policy, now)
    current = next((o for o in occurrences if o.contains(now)), None)
    upcoming = next((o for o in occurrences if o.start > now), None)
    return WindowStatus(current is not None, current, upcoming, text, tz)


def parse_now(text: str | None, policy: DeploymentPolicy) -> datetime:
    """``--now``: an ISO 8601 time; without an offset it is read in the environment's time zone."""
    if text is None:
        return datetime.now(UTC)
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(policy.time_zone))
    return value

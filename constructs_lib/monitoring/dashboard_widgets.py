"""Typed building blocks of a CloudWatch dashboard body.

Metrics, widgets and their layout are frozen values that render to the dicts of
the dashboard body structure
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html);
:func:`to_json` serialises them with sorted keys and no whitespace, so two
builds of the same dashboard are byte-identical and snapshots stay stable.

Dimension values may be cdktf token strings (a node group's ASG name, a domain
read from another stack): cdktf replaces each with a ``${...}`` interpolation
inside the JSON string, which Terraform resolves at plan time.

A :class:`Metric` is shared with :mod:`constructs_lib.monitoring.alarms`, so a
graph and the alarm that watches the same line cannot drift apart.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal, Union

from constructs_lib.errors import ValidationError

GRID_WIDTH = 24
"""CloudWatch dashboards are 24 grid units wide."""

_SIMPLE_STATS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
# Percentiles (p95, p99.9) and the other extended statistics (tm90, wm99, ...).
_EXTENDED_STAT = re.compile(r"^(p|tm|wm|tc|ts)\d{1,2}(\.\d{1,2})?$")
# CloudWatch stores periods of 1, 5, 10, 30 s (high resolution) or any multiple of 60 s.
_HIGH_RES_PERIODS = (1, 5, 10, 30)
MAX_DIMENSIONS = 30


def is_extended_statistic(stat: str) -> bool:
    """Whether ``stat`` is a percentile-style statistic (``extended_statistic`` in an alarm)."""
    return bool(_EXTENDED_STAT.fullmatch(stat))


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric with its statistic and period."""

    namespace: str
    """Namespace, e.g. ``AWS/EC2`` or the custom ``SophiaAI/ML``."""
    metric_name: str
    """Metric name, e.g. ``CPUUtilization``."""
    dimensions: tuple[tuple[str, str], ...] = ()
    """``(name, value)`` pairs, in the order they are rendered. Default: none."""
    stat: str = "Average"
    """``Average``, ``Sum``, ``Minimum``, ``Maximum``, ``SampleCount`` or a percentile such as ``p95``.
    Default: ``Average``."""
    period: int = 300
    """Aggregation period in seconds: 1, 5, 10, 30 or a multiple of 60. Default: 300 (basic monitoring)."""
    label: str | None = None
    """Legend label. Default: CloudWatch's own (metric name and dimensions)."""

    def __post_init__(self) -> None:
        where = f"Metric {self.namespace}/{self.metric_name}"
        if not self.namespace or not self.metric_name:
            raise ValidationError(f"{where}: namespace and metric_name must be non-empty")
        if self.stat not in _SIMPLE_STATS and not is_extended_statistic(self.stat):
            raise ValidationError(
                f"{where}: stat must be one of {', '.join(_SIMPLE_STATS)} or a percentile like 'p95', got {self.stat!r}"
            )
        if not (self.period in _HIGH_RES_PERIODS or (self.period > 0 and self.period % 60 == 0)):
            raise ValidationError(f"{where}: period must be 1, 5, 10, 30 or a multiple of 60 seconds, got {self.period!r}")
        names = [name for name, _ in self.dimensions]
        if len(names) > MAX_DIMENSIONS:
            raise ValidationError(f"{where}: at most {MAX_DIMENSIONS} dimensions, got {len(names)}")
        if len(set(names)) != len(names):
            raise ValidationError(f"{where}: dimension names must be unique, got {names!r}")
        for name, value in self.dimensions:
            if not name or not value:
                raise ValidationError(f"{where}: dimension {name!r} must have a non-empty name and value, got {value!r}")

    @property
    def dimension_map(self) -> dict[str, str]:
        return dict(self.dimensions)

    def render(self) -> list[Any]:
        """The dashboard form: ``[namespace, name, dim, value, ..., {stat, period[, label]}]``."""
        options: dict[str, Any] = {"stat": self.stat, "period": self.period}
        if self.label is not None:
            options["label"] = self.label
        line: list[Any] = [self.namespace, self.metric_name]
        for name, value in self.dimensions:
            line.extend((name, value))
        line.append(options)
        return line


@dataclass(frozen=True)
class HorizontalAnnotation:
    """A horizontal line on a graph, typically an alarm threshold."""

    value: float
    label: str
    color: str | None = None
    """Hex colour (``#d62728``). Default: CloudWatch's choice."""

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "label": self.label}
        if self.color is not None:
            out["color"] = self.color
        return out


@dataclass(frozen=True)
class GraphWidget:
    """A metric widget: a time series or a single-value tile."""

    title: str
    metrics: tuple[Metric, ...]
    """The lines, in legend order; at least one."""
    width: int = 12
    """Grid units (1..24). Default: half the dashboard."""
    height: int = 6
    """Grid units (1..1000). Default: 6."""
    view: Literal["timeSeries", "singleValue"] = "timeSeries"
    stacked: bool = False
    y_min: float | None = None
    """Lower bound of the left Y axis. Default: automatic."""
    y_max: float | None = None
    """Upper bound of the left Y axis (100 for percentages). Default: automatic."""
    annotations: tuple[HorizontalAnnotation, ...] = ()
    """Threshold lines. Default: none."""

    def __post_init__(self) -> None:
        _check_size("GraphWidget", self.title, self.width, self.height)
        if not self.metrics:
            raise ValidationError(f"GraphWidget {self.title!r}: metrics must not be empty")

    def render(self, *, region: str, x: int, y: int) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "title": self.title,
            "region": region,
            "view": self.view,
            "stacked": self.stacked,
            "metrics": [metric.render() for metric in self.metrics],
        }
        axis = {k: v for k, v in (("min", self.y_min), ("max", self.y_max)) if v is not None}
        if axis:
            properties["yAxis"] = {"left": axis}
        if self.annotations:
            properties["annotations"] = {"horizontal": [a.render() for a in self.annotations]}
        return _widget("metric", x, y, self.width, self.height, properties)


@dataclass(frozen=True)
class AlarmStatusWidget:
    """The state of a set of alarms at a glance."""

    title: str
    alarm_arns: tuple[str, ...]
    width: int = GRID_WIDTH
    height: int = 3

    def __post_init__(self) -> None:
        _check_size("AlarmStatusWidget", self.title, self.width, self.height)
        if not self.alarm_arns:
            raise ValidationError(f"AlarmStatusWidget {self.title!r}: alarm_arns must not be empty")
        if len(self.alarm_arns) > 100:
            # The alarm status widget shows at most 100 alarms.
            raise ValidationError(f"AlarmStatusWidget {self.title!r}: at most 100 alarms, got {len(self.alarm_arns)}")

    def render(self, *, region: str, x: int, y: int) -> dict[str, Any]:
        properties = {"title": self.title, "alarms": list(self.alarm_arns)}
        return _widget("alarm", x, y, self.width, self.height, properties)


@dataclass(frozen=True)
class TextWidget:
    """A Markdown note (what a row shows, where to look next)."""

    markdown: str
    width: int = GRID_WIDTH
    height: int = 2

    def __post_init__(self) -> None:
        _check_size("TextWidget", self.markdown[:20], self.width, self.height)

    def render(self, *, region: str, x: int, y: int) -> dict[str, Any]:
        return _widget("text", x, y, self.width, self.height, {"markdown": self.markdown})


Widget = Union[GraphWidget, AlarmStatusWidget, TextWidget]


@dataclass(frozen=True)
class DashboardLayout:
    """Widgets in rows; each row is placed left to right below the tallest widget of the row above."""

    rows: tuple[tuple[Widget, ...], ...]

    def __post_init__(self) -> None:
        for index, row in enumerate(self.rows):
            total = sum(widget.width for widget in row)
            if total > GRID_WIDTH:
                raise ValidationError(
                    f"DashboardLayout: row {index} is {total} units wide, over the dashboard width of {GRID_WIDTH}"
                )

    def widgets(self) -> tuple[Widget, ...]:
        return tuple(widget for row in self.rows for widget in row)

    def render(self, *, region: str) -> dict[str, Any]:
        rendered: list[dict[str, Any]] = []
        y = 0
        for row in self.rows:
            x = 0
            for widget in row:
                rendered.append(widget.render(region=region, x=x, y=y))
                x += widget.width
            y += max((widget.height for widget in row), default=0)
        return {"widgets": rendered}


def to_json(body: dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, no insignificant whitespace."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _widget(kind: str, x: int, y: int, width: int, height: int, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "x": x, "y": y, "width": width, "height": height, "properties": properties}


def _check_size(kind: str, title: str, width: int, height: int) -> None:
    if not 1 <= width <= GRID_WIDTH:
        raise ValidationError(f"{kind} {title!r}: width must be 1..{GRID_WIDTH}, got {width!r}")
    if not 1 <= height <= 1000:
        raise ValidationError(f"{kind} {title!r}: height must be 1..1000, got {height!r}")

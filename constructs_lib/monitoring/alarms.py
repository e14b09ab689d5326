"""A CloudWatch metric alarm that cannot be built half-configured.

The seed's alarm notified on ALARM but never on recovery, and left missing-data
handling to CloudWatch's default (``missing``), which silently keeps an alarm in
INSUFFICIENT_DATA when a node group scales to zero. Here the caller must state
both actions, how missing data counts and how many datapoints make an alarm
("M out of N"); :class:`MetricAlarm` rejects anything less.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.dashboard_widgets import HorizontalAnnotation, Metric, is_extended_statistic
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws


class Comparison(str, Enum):
    GREATER_THAN = "GreaterThanThreshold"
    GREATER_THAN_OR_EQUAL = "GreaterThanOrEqualToThreshold"
    LESS_THAN = "LessThanThreshold"
    LESS_THAN_OR_EQUAL = "LessThanOrEqualToThreshold"


class TreatMissingData(str, Enum):
    """How a period without data counts (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data)."""

    BREACHING = "breaching"
    """Silence is itself a problem (a resource that always reports has stopped)."""
    NOT_BREACHING = "notBreaching"
    """Silence is fine (no traffic, a node group scaled to zero)."""
    IGNORE = "ignore"
    """Keep the current state."""
    MISSING = "missing"
    """Go to INSUFFICIENT_DATA when every datapoint of the window is missing."""


@dataclass(frozen=True)
class AlarmProps:
    alarm_name: str
    """Alarm name, unique in the account and region."""
    description: str
    """What the alarm means and what to look at first; shown in every notification."""
    metric: Metric
    """The watched metric; its ``stat`` becomes ``statistic`` or, for percentiles, ``extended_statistic``."""
    comparison: Comparison
    threshold: float
    evaluation_periods: int
    """N: the number of most recent periods evaluated."""
    datapoints_to_alarm: int
    """M: breaching datapoints among the N that trigger ALARM (1 <= M <= N). No default: say it."""
    treat_missing_data: TreatMissingData
    """No default: CloudWatch's own (``missing``) is rarely what an operator expects."""
    alarm_actions: tuple[str, ...]
    """ARNs notified on ALARM (the alarm topic); at least one."""
    ok_actions: tuple[str, ...]
    """ARNs notified on return to OK, so that a page is always followed by its resolution; at least one."""
    insufficient_data_actions: tuple[str, ...] = ()
    """ARNs notified on INSUFFICIENT_DATA. Default: none."""


class MetricAlarm(Construct):
    """``aws_cloudwatch_metric_alarm`` with both actions and explicit missing-data treatment.

    Outputs: ``alarm_name``, ``alarm_arn``, ``annotation`` (the threshold as a dashboard line).
    """

    def __init__(self, scope: Construct, id_: str, props: AlarmProps):
        super().__init__(scope, id_)
        self._validate(id_, props)
        metric = props.metric
        extended = is_extended_statistic(metric.stat)
        self.alarm = aws.cloudwatch_metric_alarm.CloudwatchMetricAlarm(
            self,
            "alarm",
            alarm_name=props.alarm_name,
            alarm_description=props.description,
            namespace=metric.namespace,
            metric_name=metric.metric_name,
            dimensions=metric.dimension_map or None,
            period=metric.period,
            statistic=None if extended else metric.stat,
            extended_statistic=metric.stat if extended else None,
            comparison_operator=props.comparison.value,
            threshold=props.threshold,
            evaluation_periods=props.evaluation_periods,
            datapoints_to_alarm=props.datapoints_to_alarm,
            treat_missing_data=props.treat_missing_data.value,
            actions_enabled=True,
            alarm_actions=list(props.alarm_actions),
            ok_actions=list(props.ok_actions),
            insufficient_data_actions=list(props.insufficient_data_actions) or None,
        )
        self.props = props
        self.alarm_name: str = props.alarm_name
        self.alarm_arn: str = self.alarm.arn
        self.annotation = HorizontalAnnotation(value=props.threshold, label=f"alarm: {props.alarm_name}", color="#d62728")

    @staticmethod
    def _validate(id_: str, props: AlarmProps) -> None:
        where = f"MetricAlarm {id_}"
        check(props.alarm_name, ResourceKind.CLOUDWATCH_ALARM)
        if not props.description:
            raise ValidationError(f"{where}: description must say what the alarm means, got {props.description!r}")
        if not isinstance(props.comparison, Comparison):
            raise ValidationError(f"{where}: comparison must be a Comparison, got {props.comparison!r}")
        if not isinstance(props.treat_missing_data, TreatMissingData):
            raise ValidationError(
                f"{where}: treat_missing_data must be set explicitly to a TreatMissingData, got {props.treat_missing_data!r}"
            )
        if not isinstance(props.evaluation_periods, int) or props.evaluation_periods < 1:
            raise ValidationError(f"{where}: evaluation_periods must be a positive integer, got {props.evaluation_periods!r}")
        if not isinstance(props.datapoints_to_alarm, int) or not 1 <= props.datapoints_to_alarm <= props.evaluation_periods:
            raise ValidationError(
                f"{where}: datapoints_to_alarm must be 1..evaluation_periods ({props.evaluation_periods}), "
                f"got {props.datapoints_to_alarm!r}"
            )
        # CloudWatch evaluates at most one day of periods.
        if props.evaluation_periods * props.metric.period > 86400:
            raise ValidationError(
                f"{where}: evaluation_periods x period must be <= 86400 s, "
                f"got {props.evaluation_periods} x {props.metric.period}"
            )
        for field in ("alarm_actions", "ok_actions"):
            actions = getattr(props, field)
            if not isinstance(actions, tuple) or not actions or not all(actions):
                raise ValidationError(f"{where}: {field} must be a non-empty tuple of ARNs, got {actions!r}")
            if len(actions) > 5:
                raise ValidationError(f"{where}: {field} takes at most 5 ARNs (CloudWatch limit), got {len(actions)}")

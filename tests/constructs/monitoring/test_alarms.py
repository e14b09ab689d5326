"""MetricAlarm: both actions, explicit evaluation and missing-data handling, in isolation."""

from __future__ import annotations

import json

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring import metrics
from constructs_lib.monitoring.alarms import AlarmProps, Comparison, MetricAlarm, TreatMissingData

TOPIC = "arn:aws:sns:us-west-2:111111111111:sophia-shared-alarms-dev"


def alarm_props(**changes) -> AlarmProps:
    values = dict(
        alarm_name="sophia-monitoring-cpu-dev",
        description="CPU of the general node group above 80 %",
        metric=metrics.node_group_cpu("eks-general-asg"),
        comparison=Comparison.GREATER_THAN,
        threshold=80.0,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        treat_missing_data=TreatMissingData.NOT_BREACHING,
        alarm_actions=(TOPIC,),
        ok_actions=(TOPIC,),
    )
    values.update(changes)
    return AlarmProps(**values)


def synth_alarms(*props: AlarmProps) -> dict:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    for index, p in enumerate(props):
        MetricAlarm(stack, f"alarm{index}", p)
    return json.loads(CdktfTesting.synth(stack))["resource"]["aws_cloudwatch_metric_alarm"]


def test_alarm_has_both_actions_and_explicit_evaluation():
    (alarm,) = synth_alarms(alarm_props()).values()
    assert alarm["alarm_actions"] == [TOPIC]
    assert alarm["ok_actions"] == [TOPIC]
    assert alarm["treat_missing_data"] == "notBreaching"
    assert alarm["datapoints_to_alarm"] == 2
    assert alarm["evaluation_periods"] == 3
    assert alarm["actions_enabled"] is True
    assert alarm["dimensions"] == {"AutoScalingGroupName": "eks-general-asg"}
    assert alarm["statistic"] == "Average" and "extended_statistic" not in alarm


def test_percentile_alarm_uses_extended_statistic():
    (alarm,) = synth_alarms(alarm_props(metric=metrics.inference_latency("bert-base"), threshold=250)).values()
    assert alarm["extended_statistic"] == "p95"
    assert "statistic" not in alarm
    assert alarm["namespace"] == "SophiaAI/ML"
    assert alarm["dimensions"] == {"ModelName": "bert-base"}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"ok_actions": ()}, "ok_actions must be a non-empty tuple"),
        ({"alarm_actions": ()}, "alarm_actions must be a non-empty tuple"),
        ({"ok_actions": ("",)}, "ok_actions must be a non-empty tuple"),
        ({"ok_actions": [TOPIC]}, "ok_actions must be a non-empty tuple"),
        ({"treat_missing_data": None}, "treat_missing_data must be set explicitly"),
        ({"treat_missing_data": "notBreaching"}, "treat_missing_data must be set explicitly"),
        ({"datapoints_to_alarm": None}, "datapoints_to_alarm must be 1..evaluation_periods"),
        ({"datapoints_to_alarm": 4}, r"datapoints_to_alarm must be 1..evaluation_periods \(3\), got 4"),
        ({"evaluation_periods": 0}, "evaluation_periods must be a positive integer, got 0"),
        ({"evaluation_periods": 300, "datapoints_to_alarm": 1}, "must be <= 86400"),
        ({"description": ""}, "description must say"),
        ({"alarm_actions": (TOPIC,) * 6}, "at most 5"),
    ],
)
def test_alarm_rejects_incomplete_configuration(changes, message):
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(ValidationError, match=message):
        MetricAlarm(stack, "alarm", alarm_props(**changes))


def test_alarm_annotation_is_its_threshold():
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    alarm = MetricAlarm(stack, "alarm", alarm_props(threshold=72.5))
    assert alarm.annotation.value == 72.5

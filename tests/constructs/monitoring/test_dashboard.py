"""Dashboard widgets, Dashboard, MetricAlarm and LogGroups: their invariants, in isolation."""

from __future__ import annotations

import json

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring import metrics
from constructs_lib.monitoring.alarms import AlarmProps, Comparison, MetricAlarm, TreatMissingData
from constructs_lib.monitoring.dashboard import Dashboard, DashboardProps
from constructs_lib.monitoring.dashboard_widgets import (
    AlarmStatusWidget,
    DashboardLayout,
    GraphWidget,
    Metric,
    TextWidget,
    to_json,
)
from constructs_lib.monitoring.log_groups import LogGroups, LogGroupsProps
from constructs_lib.naming import NamingError

TOPIC = "arn:aws:sns:us-west-2:111111111111:sophia-shared-alarms-dev"
KEY = "arn:aws:kms:us-west-2:111111111111:key/0b1c2d3e-aaaa-bbbb-cccc-000000000001"


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


def layout(models=("bert-base", "gpt-j")) -> DashboardLayout:
    return DashboardLayout(
        rows=(
            (TextWidget("# Sophia dev"),),
            (
                GraphWidget("CPU", (metrics.node_group_cpu("asg-a", label="general"),), y_min=0, y_max=100),
                GraphWidget("Memory", (metrics.cluster_node_memory("cluster"),)),
            ),
            (
                GraphWidget("Latency", tuple(metrics.inference_latency(m) for m in models)),
                GraphWidget("Throughput", tuple(metrics.inference_throughput(m) for m in models)),
            ),
        )
    )


def synth_dashboard(lay: DashboardLayout, region: str = "us-west-2") -> tuple[dict, Dashboard]:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    dashboard = Dashboard(stack, "dashboard", DashboardProps("sophia-monitoring-dashboard-dev", region, lay))
    return json.loads(CdktfTesting.synth(stack)), dashboard


# --- widgets ---------------------------------------------------------------------------


def test_layout_places_rows_below_the_tallest_widget_above():
    widgets = layout().render(region="eu-west-1")["widgets"]
    assert [(w["x"], w["y"], w["width"]) for w in widgets] == [(0, 0, 24), (0, 2, 12), (12, 2, 12), (0, 8, 12), (12, 8, 12)]
    assert all(w["properties"]["region"] == "eu-west-1" for w in widgets if w["type"] == "metric")


def test_metric_renders_dimensions_then_options():
    line = metrics.inference_latency("bert-base").render()
    assert line == ["SophiaAI/ML", "InferenceLatency", "ModelName", "bert-base", {"stat": "p95", "period": 60, "label": "bert-base p95"}]


def test_one_line_per_model():
    widgets = layout(models=("a", "b", "c")).render(region="us-west-2")["widgets"]
    latency = next(w for w in widgets if w["properties"].get("title") == "Latency")
    assert [line[3] for line in latency["properties"]["metrics"]] == ["a", "b", "c"]


def test_body_json_is_deterministic_and_sorted():
    first = to_json(layout().render(region="us-west-2"))
    second = to_json(layout().render(region="us-west-2"))
    assert first == second
    assert first == json.dumps(json.loads(first), sort_keys=True, separators=(",", ":"))


def test_opensearch_metrics_carry_domain_and_client_id():
    for metric in metrics.opensearch_cluster_status("sophia-vec-dev", "111111111111") + (
        metrics.opensearch_free_storage("sophia-vec-dev", "111111111111"),
    ):
        assert metric.namespace == "AWS/ES"
        assert metric.dimension_map == {"DomainName": "sophia-vec-dev", "ClientId": "111111111111"}


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Metric("AWS/EC2", "CPUUtilization", stat="Median"), "stat must be"),
        (lambda: Metric("AWS/EC2", "CPUUtilization", period=90), "period must be"),
        (lambda: Metric("AWS/EC2", "CPUUtilization", (("A", "x"), ("A", "y"))), "dimension names must be unique"),
        (lambda: Metric("AWS/EC2", "CPUUtilization", (("A", ""),)), "non-empty"),
        (lambda: GraphWidget("empty", ()), "metrics must not be empty"),
        (lambda: GraphWidget("wide", (metrics.rds_cpu("db"),), width=25), "width must be 1..24, got 25"),
        (lambda: DashboardLayout(rows=((TextWidget("a", width=20), TextWidget("b", width=8)),)), "28 units wide"),
        (lambda: AlarmStatusWidget("none", ()), "alarm_arns must not be empty"),
    ],
)
def test_widget_validation(build, message):
    with pytest.raises(ValidationError, match=message):
        build()


# --- dashboard -------------------------------------------------------------------------


def test_dashboard_body_in_synth_is_the_rendered_json():
    synthesized, dashboard = synth_dashboard(layout())
    (resource,) = synthesized["resource"]["aws_cloudwatch_dashboard"].values()
    assert resource["dashboard_name"] == "sophia-monitoring-dashboard-dev"
    assert resource["dashboard_body"] == dashboard.body
    assert json.loads(resource["dashboard_body"])["widgets"][1]["properties"]["metrics"][0][3] == "asg-a"


def test_dashboard_builds_are_byte_identical():
    first, _ = synth_dashboard(layout())
    second, _ = synth_dashboard(layout())
    assert first == second


def test_dashboard_url_uses_the_stack_region():
    _, dashboard = synth_dashboard(layout(), region="eu-central-1")
    assert dashboard.url == (
        "https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1"
        "#dashboards:name=sophia-monitoring-dashboard-dev"
    )


def test_dashboard_token_dimension_becomes_an_interpolation():
    from constructs_lib.providers import aws

    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    node_group = aws.data_aws_eks_node_group.DataAwsEksNodeGroup(stack, "ng", cluster_name="c", node_group_name="n")
    asg = node_group.resources.get(0).autoscaling_groups.get(0).name
    lay = DashboardLayout(rows=((GraphWidget("CPU", (metrics.node_group_cpu(asg),)),),))
    Dashboard(stack, "dashboard", DashboardProps("sophia-monitoring-dashboard-dev", "us-west-2", lay))
    body = next(iter(json.loads(CdktfTesting.synth(stack))["resource"]["aws_cloudwatch_dashboard"].values()))["dashboard_body"]
    assert json.loads(body)["widgets"][0]["properties"]["metrics"][0][3] == (
        "${data.aws_eks_node_group.ng.resources[0].autoscaling_groups[0].name}"
    )


def test_dashboard_rejects_bad_name():
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(NamingError, match="CLOUDWATCH_DASHBOARD"):
        Dashboard(stack, "d", DashboardProps("bad name!", "us-west-2", layout()))


# --- alarms ----------------------------------------------------------------------------


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


# --- log groups ------------------------------------------------------------------------


def log_props(**changes) -> LogGroupsProps:
    values = dict(
        application_log_group_name="sophia-app-logs-dev",
        component_log_group_names=(("api", "sophia-api-logs-dev"), ("worker", "sophia-worker-logs-dev")),
        retention_days=30,
        kms_key_arn=KEY,
    )
    values.update(changes)
    return LogGroupsProps(**values)


def test_log_groups_are_encrypted_with_bounded_retention():
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    groups = LogGroups(stack, "logs", log_props(retention_days=90))
    synthesized = json.loads(CdktfTesting.synth(stack))["resource"]["aws_cloudwatch_log_group"]
    assert sorted(g["name"] for g in synthesized.values()) == [
        "sophia-api-logs-dev",
        "sophia-app-logs-dev",
        "sophia-worker-logs-dev",
    ]
    for group in synthesized.values():
        assert group["kms_key_id"] == KEY
        assert group["retention_in_days"] == 90
    assert groups.log_group_names == ("sophia-app-logs-dev", "sophia-api-logs-dev", "sophia-worker-logs-dev")
    assert groups.component_log_group_names == {"api": "sophia-api-logs-dev", "worker": "sophia-worker-logs-dev"}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"retention_days": 45}, "retention_days must be one of .*got 45"),
        ({"kms_key_arn": "alias/sophia/dev/logs"}, "kms_key_arn must be a KMS key ARN"),
        ({"component_log_group_names": (("api", "sophia-app-logs-dev"),)}, "log group names must be unique"),
        ({"component_log_group_names": (("API", "x"),)}, "component 'API'"),
        ({"log_group_class": "COLD"}, "log_group_class must be"),
    ],
)
def test_log_groups_validation(changes, message):
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(ValidationError, match=message):
        LogGroups(stack, "logs", log_props(**changes))

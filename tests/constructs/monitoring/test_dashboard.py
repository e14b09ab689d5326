"""Dashboard widgets and Dashboard: their invariants, in isolation."""

from __future__ import annotations

import json

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring import metrics
from constructs_lib.monitoring.dashboard import Dashboard, DashboardProps
from constructs_lib.monitoring.dashboard_widgets import (
    AlarmStatusWidget,
    DashboardLayout,
    GraphWidget,
    Metric,
    TextWidget,
    to_json,
)
from constructs_lib.naming import NamingError


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

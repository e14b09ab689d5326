"""PlatformDashboard: shows every alarm, draws each alarm's threshold on its graph, plots what is watched."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.monitoring.platform_alarms import PlatformAlarms
from constructs_lib.monitoring.platform_dashboard import PlatformDashboard, PlatformDashboardProps
from tests.constructs.monitoring.test_platform_alarms import PROPS as ALARM_PROPS
from tests.constructs.monitoring.test_platform_alarms import RESOURCES


def body(resources=RESOURCES) -> dict:
    stack = TerraformStack(CdktfTesting.app(), "test")
    alarm_props = replace(ALARM_PROPS, resources=resources)
    PlatformDashboard(
        stack,
        "dashboard",
        PlatformDashboardProps(
            dashboard_name="sophia-monitoring-dashboard-dev",
            environment="dev",
            region="us-west-2",
            account_id="111111111111",
            resources=resources,
            alarms=PlatformAlarms(stack, alarm_props),
            period_seconds=300,
        ),
    )
    out = json.loads(CdktfTesting.synth(stack))
    (dashboard,) = out["resource"]["aws_cloudwatch_dashboard"].values()
    return {"body": json.loads(dashboard["dashboard_body"]), "alarms": out["resource"]["aws_cloudwatch_metric_alarm"]}


@pytest.fixture(scope="module")
def dev() -> dict:
    return body()


def graphs(dashboard: dict) -> dict[str, dict]:
    return {w["properties"]["title"]: w["properties"] for w in dashboard["body"]["widgets"] if w["type"] == "metric"}


def test_the_status_row_lists_every_alarm(dev):
    (status,) = [w["properties"] for w in dev["body"]["widgets"] if w["type"] == "alarm"]
    assert sorted(status["alarms"]) == sorted(f"${{aws_cloudwatch_metric_alarm.{key}.arn}}" for key in dev["alarms"])


def test_each_alarmed_graph_draws_its_alarms_threshold(dev):
    thresholds = {a["alarm_name"]: a["threshold"] for a in dev["alarms"].values()}
    drawn = {
        line["label"].removeprefix("alarm: "): line["value"]
        for graph in graphs(dev).values()
        for line in graph.get("annotations", {}).get("horizontal", [])
    }
    assert drawn
    for name, value in drawn.items():
        assert thresholds[name] == value, name


def test_opensearch_graphs_carry_the_account_as_client_id(dev):
    status = graphs(dev)["Vector database cluster status"]
    for line in status["metrics"]:
        assert line[:2] == ["AWS/ES", line[1]] and line[2:6] == ["DomainName", "sophia-ai-vectors-dev", "ClientId", "111111111111"]


def test_no_model_row_without_models(dev):
    assert "Inference latency p95 (ms)" in graphs(dev)
    assert "Inference latency p95 (ms)" not in graphs(body(replace(RESOURCES, models=())))

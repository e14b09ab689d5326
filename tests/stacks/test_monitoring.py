"""The monitoring stack, built on stand-in upstream stacks that expose the interface contract
with literal values: what it watches, how it alarms, what it outputs."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from cdktf import Testing as CdktfTesting

import sophia_config as config_mod
from constructs_lib.monitoring.platform_alarms import GIB
from constructs_lib.monitoring.saved_queries import container_insights_log_groups
from stacks.base import StackContext
from stacks.monitoring import MonitoringStack

TOPIC = "arn:aws:sns:us-west-2:111111111111:sophia-shared-alarms-dev"
LOGS_KEY = "arn:aws:kms:us-west-2:111111111111:key/0b1c2d3e-aaaa-bbbb-cccc-00000000000a"
UPSTREAM = dict(
    security=SimpleNamespace(kms_key_arn=lambda purpose: {"logs": LOGS_KEY}[purpose]),
    shared=SimpleNamespace(alarm_topic=SimpleNamespace(topic_arn=TOPIC)),
    compute=SimpleNamespace(
        cluster=SimpleNamespace(
            cluster_name="sophia-compute-eks-dev", log_group_name="/aws/eks/sophia-compute-eks-dev/cluster"
        ),
        general_nodes=SimpleNamespace(node_group_name="sophia-compute-general-dev"),
        container_insights_log_groups=container_insights_log_groups("sophia-compute-eks-dev"),
    ),
    data=SimpleNamespace(database=SimpleNamespace(active_database_identifier="sophia-data-postgres-dev-blue")),
    ai_ml=SimpleNamespace(
        gpu_nodes=SimpleNamespace(node_group_name="sophia-ai-gpu-dev"),
        vector_database=SimpleNamespace(domain_name="sophia-vec-dev"),
    ),
    # Only the names are read (which models are deployed).
    ai_workloads=SimpleNamespace(models=dict.fromkeys(("bert-base", "roberta-large", "gpt-j"))),
)


def build(env: str = "dev"):
    app_config = config_mod.load()
    ctx = StackContext(app_config.project, app_config.environment(env))
    app = CdktfTesting.app()
    stack = MonitoringStack(app, ctx, **UPSTREAM)
    return stack, json.loads(CdktfTesting.synth(stack)), ctx.config


@pytest.fixture(scope="module")
def dev():
    return build("dev")


def alarms_by_name(synth: dict) -> dict[str, dict]:
    return {a["alarm_name"]: a for a in synth["resource"]["aws_cloudwatch_metric_alarm"].values()}


def test_every_alarm_notifies_on_alarm_and_ok_with_explicit_missing_data(dev):
    _, synth, cfg = dev
    for name, alarm in alarms_by_name(synth).items():
        assert alarm["alarm_actions"] == [TOPIC], name
        assert alarm["ok_actions"] == [TOPIC], name
        assert alarm["treat_missing_data"] in {"breaching", "notBreaching", "ignore", "missing"}, name
        assert alarm["datapoints_to_alarm"] == cfg.monitoring.datapoints_to_alarm, name
        assert alarm["evaluation_periods"] == cfg.monitoring.evaluation_periods, name


def test_one_latency_alarm_per_model_with_its_threshold(dev):
    _, synth, cfg = dev
    latency = {
        a["dimensions"]["ModelName"]: a
        for a in alarms_by_name(synth).values()
        if a["metric_name"] == "InferenceLatency"
    }
    assert cfg.models, "the dev configuration declares models"
    assert set(latency) == {m.name for m in cfg.models}
    for model in cfg.models:
        assert latency[model.name]["extended_statistic"] == "p95"
        assert latency[model.name]["threshold"] == model.latency_threshold_ms
        assert latency[model.name]["namespace"] == "SophiaAI/ML"


def test_node_group_cpu_alarms_watch_the_node_groups_asgs(dev):
    _, synth, cfg = dev
    node_groups = synth["data"]["aws_eks_node_group"]
    assert sorted(ng["node_group_name"] for ng in node_groups.values()) == ["sophia-ai-gpu-dev", "sophia-compute-general-dev"]
    cpu = [a for a in alarms_by_name(synth).values() if a["namespace"] == "AWS/EC2"]
    assert len(cpu) == 2
    for alarm in cpu:
        assert alarm["threshold"] == cfg.monitoring.node_cpu_percent
        asg = alarm["dimensions"]["AutoScalingGroupName"]
        assert asg.startswith("${data.aws_eks_node_group.") and asg.endswith(".resources[0].autoscaling_groups[0].name}")


def test_rds_alarms_watch_the_active_database(dev):
    _, synth, cfg = dev
    rds = {a["metric_name"]: a for a in alarms_by_name(synth).values() if a["namespace"] == "AWS/RDS"}
    assert set(rds) == {"CPUUtilization", "DatabaseConnections", "FreeStorageSpace"}
    for alarm in rds.values():
        assert alarm["dimensions"] == {"DBInstanceIdentifier": "sophia-data-postgres-dev-blue"}
    assert rds["FreeStorageSpace"]["comparison_operator"] == "LessThanThreshold"
    assert rds["FreeStorageSpace"]["threshold"] == cfg.monitoring.rds_free_storage_gib * GIB
    assert rds["DatabaseConnections"]["threshold"] == cfg.monitoring.rds_max_connections


def test_dashboard_region_and_opensearch_dimensions(dev):
    stack, synth, cfg = dev
    (dashboard,) = synth["resource"]["aws_cloudwatch_dashboard"].values()
    body = json.loads(dashboard["dashboard_body"])
    metric_widgets = [w for w in body["widgets"] if w["type"] == "metric"]
    assert {w["properties"]["region"] for w in metric_widgets} == {cfg.aws.region}
    opensearch = [line for w in metric_widgets for line in w["properties"]["metrics"] if line[0] == "AWS/ES"]
    assert opensearch, "the dashboard plots the vector database"
    for line in opensearch:
        assert line[2:6] == ["DomainName", "sophia-vec-dev", "ClientId", cfg.aws.account_id]
    models = [line[3] for w in metric_widgets for line in w["properties"]["metrics"] if line[0] == "SophiaAI/ML"]
    assert sorted(set(models)) == sorted(m.name for m in cfg.models)


def test_dashboard_shows_every_alarm(dev):
    _, synth, _ = dev
    (dashboard,) = synth["resource"]["aws_cloudwatch_dashboard"].values()
    (alarm_widget,) = [w for w in json.loads(dashboard["dashboard_body"])["widgets"] if w["type"] == "alarm"]
    assert len(alarm_widget["properties"]["alarms"]) == len(synth["resource"]["aws_cloudwatch_metric_alarm"])


def test_log_groups_use_configured_retention_and_the_logs_key(dev):
    _, synth, cfg = dev
    groups = synth["resource"]["aws_cloudwatch_log_group"].values()
    assert len(groups) == 1 + len(cfg.monitoring.log_components)
    for group in groups:
        assert group["retention_in_days"] == cfg.logging.retention_days
        assert group["kms_key_id"] == LOGS_KEY


def test_outputs(dev):
    stack, synth, cfg = dev
    outputs = synth["output"]
    region = cfg.aws.region
    assert outputs["dashboard_url"]["value"] == (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name=sophia-monitoring-dashboard-dev"
    )
    assert outputs["alarm_topic_arn"]["value"] == TOPIC
    assert outputs["log_group_names"]["value"][0] == "sophia-app-logs-dev"
    assert all(output.get("description") for output in outputs.values())


def test_synth_is_deterministic():
    _, first, _ = build("dev")
    _, second, _ = build("dev")
    assert first == second


def test_production_retention_differs_by_configuration_only():
    _, synth, cfg = build("production")
    assert cfg.logging.retention_days == 90
    assert {g["retention_in_days"] for g in synth["resource"]["aws_cloudwatch_log_group"].values()} == {90}

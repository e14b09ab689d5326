"""PlatformAlarms: every alarm notifies on ALARM and OK, M of N as configured, silence treated on purpose."""

from __future__ import annotations

from dataclasses import replace

import pytest

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.platform_alarms import (
    GIB,
    ModelLatency,
    PlatformAlarms,
    PlatformAlarmsProps,
    PlatformResources,
)
from constructs_lib.naming import Naming
from tests.constructs.support import synth

TOPIC = "arn:aws:sns:us-west-2:111111111111:sophia-shared-alarms-dev"
RESOURCES = PlatformResources(
    node_group_asg_names=(("general", "eks-general-asg"), ("gpu", "eks-gpu-asg")),
    cluster_name="sophia-compute-eks-dev",
    opensearch_domain_name="sophia-ai-vectors-dev",
    database_identifier="sophia-data-postgres-dev-blue",
    models=(ModelLatency("bert-base", 200), ModelLatency("gpt-j", 2000)),
)
PROPS = PlatformAlarmsProps(
    resources=RESOURCES,
    naming=Naming("sophia", "dev"),
    alarm_topic_arn=TOPIC,
    node_cpu_percent=80,
    node_memory_percent=85,
    rds_cpu_percent=75,
    rds_max_connections=80,
    rds_free_storage_gib=5,
    period_seconds=300,
    evaluation_periods=3,
    datapoints_to_alarm=2,
)


def alarms(props: PlatformAlarmsProps = PROPS) -> dict[str, dict]:
    out = synth(lambda stack: PlatformAlarms(stack, props))
    return {a["alarm_name"]: a for a in out["resource"]["aws_cloudwatch_metric_alarm"].values()}


@pytest.fixture(scope="module")
def by_name() -> dict[str, dict]:
    return alarms()


def test_one_alarm_per_node_group_model_and_database_signal(by_name):
    assert set(by_name) == {
        f"sophia-monitoring-{key}-dev"
        for key in ("general-cpu", "gpu-cpu", "node-memory", "latency-bert-base", "latency-gpt-j", "rds-cpu", "rds-connections", "rds-storage")
    }


def test_every_alarm_notifies_the_topic_on_alarm_and_on_recovery_m_of_n(by_name):
    for alarm in by_name.values():
        assert alarm["alarm_actions"] == [TOPIC] and alarm["ok_actions"] == [TOPIC]
        assert (alarm["datapoints_to_alarm"], alarm["evaluation_periods"]) == (2, 3)


def test_thresholds_and_units_come_from_the_props(by_name):
    assert by_name["sophia-monitoring-general-cpu-dev"]["threshold"] == 80
    assert by_name["sophia-monitoring-rds-cpu-dev"]["threshold"] == 75
    # GiB in the props, bytes in the metric.
    storage = by_name["sophia-monitoring-rds-storage-dev"]
    assert storage["threshold"] == 5 * GIB and storage["comparison_operator"] == "LessThanThreshold"
    latency = by_name["sophia-monitoring-latency-gpt-j-dev"]
    assert latency["threshold"] == 2000 and latency["extended_statistic"] == "p95" and "statistic" not in latency
    assert latency["dimensions"] == {"ModelName": "gpt-j"}


def test_silence_counts_as_intended(by_name):
    treat = {name.split("-", 2)[2].removesuffix("-dev"): a["treat_missing_data"] for name, a in by_name.items()}
    assert treat["gpu-cpu"] == "notBreaching"  # a GPU group scaled to zero publishes nothing
    assert treat["latency-bert-base"] == "notBreaching"  # no requests, no latency
    assert treat["rds-storage"] == "breaching"  # a running instance always reports storage
    assert treat["node-memory"] == "missing"


def test_an_environment_without_models_has_no_latency_alarm():
    names = alarms(replace(PROPS, resources=replace(RESOURCES, models=())))
    assert not any("latency" in name for name in names)


def test_an_alarm_set_without_a_topic_is_refused():
    with pytest.raises(ValidationError, match="PlatformAlarms: alarm_topic_arn is required, got ''"):
        alarms(replace(PROPS, alarm_topic_arn=""))

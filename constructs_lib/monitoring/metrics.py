"""The metrics the platform watches, as typed factories (like CDK's canned metrics).

Each factory takes the real name of the watched resource (usually a token read
from the stack that creates it) and fixes the namespace, metric name and
dimension names, which are where a hand-written dashboard goes wrong silently:
a misspelt dimension plots an empty graph and an alarm that never fires.
"""

from __future__ import annotations

from constructs_lib.monitoring.dashboard_widgets import Metric

ML_NAMESPACE = "SophiaAI/ML"
"""Custom namespace the model servers publish to (the seed's)."""
MODEL_DIMENSION = "ModelName"


# EKS managed node groups. EC2 publishes CPUUtilization per Auto Scaling group
# for free and without an agent, and a managed node group is exactly one ASG, so
# CPU is per node group. Memory is not an EC2 metric: it comes from Container
# Insights (amazon-cloudwatch-observability add-on), whose node metrics have no
# node-group dimension (only ClusterName, or ClusterName+InstanceId+NodeName that
# change with every replaced node), so memory is watched per cluster.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-EKS.html


def node_group_cpu(asg_name: str, *, label: str | None = None, period: int = 300) -> Metric:
    return Metric("AWS/EC2", "CPUUtilization", (("AutoScalingGroupName", asg_name),), "Average", period, label)


def cluster_node_memory(cluster_name: str, *, label: str | None = None, period: int = 300) -> Metric:
    return Metric("ContainerInsights", "node_memory_utilization", (("ClusterName", cluster_name),), "Average", period, label)


# Model servers (custom metrics, published by the inference service with a ModelName dimension).


def inference_latency(model_name: str, *, stat: str = "p95", period: int = 60) -> Metric:
    return Metric(ML_NAMESPACE, "InferenceLatency", ((MODEL_DIMENSION, model_name),), stat, period, f"{model_name} {stat}")


def inference_throughput(model_name: str, *, period: int = 60) -> Metric:
    return Metric(ML_NAMESPACE, "InferenceThroughput", ((MODEL_DIMENSION, model_name),), "Sum", period, model_name)


# OpenSearch Service still publishes under AWS/ES, and every domain metric needs
# both DomainName and ClientId (the account id), or the graph is empty.


def opensearch(metric_name: str, domain_name: str, account_id: str, *, stat: str = "Maximum", period: int = 60) -> Metric:
    dimensions = (("DomainName", domain_name), ("ClientId", account_id))
    return Metric("AWS/ES", metric_name, dimensions, stat, period, metric_name)


def opensearch_cluster_status(domain_name: str, account_id: str) -> tuple[Metric, ...]:
    return tuple(
        opensearch(f"ClusterStatus.{color}", domain_name, account_id) for color in ("green", "yellow", "red")
    )


def opensearch_free_storage(domain_name: str, account_id: str) -> Metric:
    # Minimum across nodes: the fullest node blocks writes first.
    return opensearch("FreeStorageSpace", domain_name, account_id, stat="Minimum", period=300)


# RDS, per instance (the active one of the blue/green pair).


def rds(metric_name: str, db_instance_identifier: str, *, stat: str = "Average", period: int = 300) -> Metric:
    return Metric("AWS/RDS", metric_name, (("DBInstanceIdentifier", db_instance_identifier),), stat, period, metric_name)


def rds_cpu(db_instance_identifier: str, period: int = 300) -> Metric:
    return rds("CPUUtilization", db_instance_identifier, period=period)


def rds_connections(db_instance_identifier: str, period: int = 300) -> Metric:
    return rds("DatabaseConnections", db_instance_identifier, stat="Maximum", period=period)


def rds_free_storage(db_instance_identifier: str, period: int = 300) -> Metric:
    return rds("FreeStorageSpace", db_instance_identifier, stat="Minimum", period=period)

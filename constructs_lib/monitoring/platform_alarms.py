"""``PlatformAlarms``: the alarm set of one environment of the platform.

Node group CPU, cluster node memory, p95 inference latency per model and the active
database's CPU, connections and free storage, each notifying the alarm topic on
ALARM and on OK, evaluated M of N. How a silent metric counts is chosen per alarm
and commented where it is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring import metrics
from constructs_lib.monitoring.alarms import AlarmProps, Comparison, MetricAlarm, TreatMissingData
from constructs_lib.monitoring.dashboard_widgets import Metric
from constructs_lib.naming import Naming, ResourceKind

GIB = 1024**3


@dataclass(frozen=True)
class ModelLatency:
    """A deployed model and the p95 latency above which it alarms."""

    name: str
    """Model name, the ``ModelName`` dimension of the ``SophiaAI/ML`` metrics."""
    threshold_ms: int
    """p95 inference latency threshold in milliseconds."""


@dataclass(frozen=True)
class PlatformResources:
    """What the platform's alarms and dashboard watch, each read from the stack that creates it."""

    node_group_asg_names: tuple[tuple[str, str], ...]
    """``(role, Auto Scaling group name)`` per node group, in display order (first: the CPU annotation)."""
    cluster_name: str
    """EKS cluster whose Container Insights node memory is watched."""
    opensearch_domain_name: str
    """Vector database domain (plotted; its own construct raises its alarms)."""
    database_identifier: str
    """The active database instance (blue or green)."""
    models: tuple[ModelLatency, ...] = ()
    """Models really deployed, each with its latency threshold. Default: none (no latency alarms)."""


@dataclass(frozen=True)
class PlatformAlarmsProps:
    resources: PlatformResources
    """What is watched."""
    naming: Naming
    """Names every alarm ``{project}-monitoring-{key}-{env}``."""
    alarm_topic_arn: str
    """SNS topic notified on ALARM and on OK."""
    node_cpu_percent: float
    """Average CPU of a node group above which it alarms. No default: the configuration states it."""
    node_memory_percent: float
    """Average cluster node memory above which it alarms. No default."""
    rds_cpu_percent: float
    """Active database CPU above which it alarms. No default."""
    rds_max_connections: int
    """Connections above which the active database alarms. No default."""
    rds_free_storage_gib: float
    """Free storage (GiB) below which the active database alarms. No default."""
    period_seconds: int
    """Period of the node and database metrics (the latency metric keeps its own). No default."""
    evaluation_periods: int
    """N of every alarm. No default."""
    datapoints_to_alarm: int
    """M of every alarm (1 <= M <= N). No default."""


class PlatformAlarms:
    """Creates the platform's alarms directly in ``scope`` (``alarm-<key>``).

    Not a construct node of its own: the alarms keep the construct paths, and so the
    Terraform addresses, they had when the monitoring stack built them itself.

    Attributes: ``alarms`` (key -> :class:`MetricAlarm`, in creation order), ``cpu``
    (per node group), ``memory``, ``latency`` (per model), ``rds`` (CPU, connections,
    storage): the dashboard draws their thresholds.
    """

    def __init__(self, scope: Construct, props: PlatformAlarmsProps):
        if not props.alarm_topic_arn:
            raise ValidationError(f"PlatformAlarms: alarm_topic_arn is required, got {props.alarm_topic_arn!r}")
        self._scope = scope
        self._props = props
        self.alarms: dict[str, MetricAlarm] = {}
        watched, period = props.resources, props.period_seconds
        self.cpu = [
            self._alarm(
                f"{role}-cpu",
                f"Average CPU of the {role} node group above {props.node_cpu_percent:g} %: "
                "check pod requests, the HPA and the node group's max size.",
                metrics.node_group_cpu(asg, period=period),
                Comparison.GREATER_THAN,
                props.node_cpu_percent,
                # A node group scaled to zero (GPU outside office hours) publishes nothing.
                TreatMissingData.NOT_BREACHING,
            )
            for role, asg in watched.node_group_asg_names
        ]
        self.memory = self._alarm(
            "node-memory",
            f"Average node memory of cluster {watched.cluster_name} above {props.node_memory_percent:g} %: "
            "pods may be evicted; check memory requests and limits.",
            metrics.cluster_node_memory(watched.cluster_name, period=period),
            Comparison.GREATER_THAN,
            props.node_memory_percent,
            # INSUFFICIENT_DATA (shown on the dashboard) says Container Insights stopped publishing.
            TreatMissingData.MISSING,
        )
        self.latency = [
            self._alarm(
                f"latency-{model.name}",
                f"p95 inference latency of model {model.name} above its threshold of {model.threshold_ms} ms "
                "(models[].latency_threshold_ms).",
                metrics.inference_latency(model.name),
                Comparison.GREATER_THAN,
                model.threshold_ms,
                # No requests, no latency datapoints: not an incident.
                TreatMissingData.NOT_BREACHING,
            )
            for model in watched.models
        ]
        self.rds = self._database_alarms(watched.database_identifier, period)

    def _database_alarms(self, database: str, period: int) -> list[MetricAlarm]:
        props = self._props
        return [
            self._alarm(
                "rds-cpu",
                f"CPU of the active database above {props.rds_cpu_percent:g} %.",
                metrics.rds_cpu(database, period),
                Comparison.GREATER_THAN,
                props.rds_cpu_percent,
                TreatMissingData.MISSING,
            ),
            self._alarm(
                "rds-connections",
                f"More than {props.rds_max_connections} connections on the active database: "
                "clients will soon be refused.",
                metrics.rds_connections(database, period),
                Comparison.GREATER_THAN,
                props.rds_max_connections,
                TreatMissingData.MISSING,
            ),
            self._alarm(
                "rds-storage",
                f"Free storage of the active database below {props.rds_free_storage_gib:g} GiB.",
                metrics.rds_free_storage(database, period),
                Comparison.LESS_THAN,
                props.rds_free_storage_gib * GIB,
                # A running instance always reports storage: silence means it is down.
                TreatMissingData.BREACHING,
            ),
        ]

    def _alarm(
        self,
        key: str,
        description: str,
        metric: Metric,
        comparison: Comparison,
        threshold: float,
        treat_missing_data: TreatMissingData,
    ) -> MetricAlarm:
        """An alarm that notifies the topic on ALARM and on OK, evaluated M of N as configured."""
        props = self._props
        alarm = MetricAlarm(
            self._scope,
            f"alarm-{key}",
            AlarmProps(
                alarm_name=props.naming.name("monitoring", key, kind=ResourceKind.CLOUDWATCH_ALARM),
                description=description,
                metric=metric,
                comparison=comparison,
                threshold=threshold,
                evaluation_periods=props.evaluation_periods,
                datapoints_to_alarm=props.datapoints_to_alarm,
                treat_missing_data=treat_missing_data,
                alarm_actions=(props.alarm_topic_arn,),
                ok_actions=(props.alarm_topic_arn,),
            ),
        )
        self.alarms[key] = alarm
        return alarm

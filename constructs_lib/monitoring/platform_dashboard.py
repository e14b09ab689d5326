"""``PlatformDashboard``: the one CloudWatch dashboard of an environment of the platform.

Rows, top to bottom: a title, the state of every alarm, node group CPU and cluster
node memory, inference latency and throughput per model (when models are deployed),
the vector database, the active database. Each graph that has an alarm draws its
threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from constructs_lib.monitoring import metrics
from constructs_lib.monitoring.dashboard import Dashboard, DashboardProps
from constructs_lib.monitoring.dashboard_widgets import AlarmStatusWidget, DashboardLayout, GraphWidget, TextWidget
from constructs_lib.monitoring.platform_alarms import ModelLatency, PlatformAlarms, PlatformResources


@dataclass(frozen=True)
class PlatformDashboardProps:
    dashboard_name: str
    """Dashboard name (``Naming.name(..., kind=ResourceKind.CLOUDWATCH_DASHBOARD)``)."""
    environment: str
    """Environment name, in the title."""
    region: str
    """Region every metric widget reads from."""
    account_id: str
    """Account of the OpenSearch domain (its metrics carry a ``ClientId`` dimension)."""
    resources: PlatformResources
    """What is plotted: the same resources the alarms watch."""
    alarms: PlatformAlarms
    """The alarms shown in the status row and drawn as thresholds."""
    period_seconds: int
    """Period of the node and database graphs, the alarms' period. No default."""


class PlatformDashboard:
    """Creates the :class:`Dashboard` directly in ``scope`` as ``id_``.

    Not a construct node of its own: the dashboard keeps the construct path (and the
    Terraform address) it had when the monitoring stack built it itself.

    Attributes: ``dashboard`` (``.url``, ``.dashboard_name``, ``.body``).
    """

    def __init__(self, scope: Construct, id_: str, props: PlatformDashboardProps):
        watched, alarms, period = props.resources, props.alarms, props.period_seconds
        cluster_name, domain_name, database = watched.cluster_name, watched.opensearch_domain_name, watched.database_identifier
        layout = DashboardLayout(
            rows=(
                (
                    TextWidget(
                        f"# Sophia AI, {props.environment}\nNode groups, model servers, vector database and the "
                        "active database. Alarms notify the shared alarm topic.",
                        height=2,
                    ),
                ),
                (AlarmStatusWidget("Alarms", tuple(alarm.alarm_arn for alarm in alarms.alarms.values())),),
                (
                    GraphWidget(
                        "Node group CPU (%)",
                        tuple(
                            metrics.node_group_cpu(asg, label=role, period=period)
                            for role, asg in watched.node_group_asg_names
                        ),
                        y_min=0,
                        y_max=100,
                        annotations=(alarms.cpu[0].annotation,),
                    ),
                    GraphWidget(
                        "Cluster node memory (%)",
                        (metrics.cluster_node_memory(cluster_name, label="memory", period=period),),
                        y_min=0,
                        y_max=100,
                        annotations=(alarms.memory.annotation,),
                    ),
                ),
                *self._model_rows(watched.models, alarms),
                (
                    GraphWidget(
                        "Vector database cluster status",
                        metrics.opensearch_cluster_status(domain_name, props.account_id),
                        y_min=0,
                        y_max=1,
                    ),
                    GraphWidget(
                        "Vector database free storage (MB, smallest node)",
                        (metrics.opensearch_free_storage(domain_name, props.account_id),),
                        y_min=0,
                    ),
                ),
                self._database_row(database, alarms, period),
            )
        )
        self.dashboard = Dashboard(
            scope, id_, DashboardProps(dashboard_name=props.dashboard_name, region=props.region, layout=layout)
        )

    @staticmethod
    def _model_rows(models: tuple[ModelLatency, ...], alarms: PlatformAlarms) -> tuple[tuple[GraphWidget, ...], ...]:
        """One latency and one throughput line per model; no row for an environment without models."""
        if not models:
            return ()
        latency = GraphWidget(
            "Inference latency p95 (ms)",
            tuple(metrics.inference_latency(model.name) for model in models),
            y_min=0,
            annotations=tuple(alarm.annotation for alarm in alarms.latency),
        )
        throughput = GraphWidget(
            "Inference throughput (requests)", tuple(metrics.inference_throughput(model.name) for model in models), y_min=0
        )
        return ((latency, throughput),)

    @staticmethod
    def _database_row(database: str, alarms: PlatformAlarms, period: int) -> tuple[GraphWidget, ...]:
        cpu, connections, storage = alarms.rds
        return (
            GraphWidget(
                "Active database CPU (%)",
                (metrics.rds_cpu(database, period),),
                width=8,
                y_min=0,
                y_max=100,
                annotations=(cpu.annotation,),
            ),
            GraphWidget(
                "Active database connections",
                (metrics.rds_connections(database, period),),
                width=8,
                y_min=0,
                annotations=(connections.annotation,),
            ),
            GraphWidget(
                "Active database free storage (bytes)",
                (metrics.rds_free_storage(database, period),),
                width=8,
                y_min=0,
                annotations=(storage.annotation,),
            ),
        )

"""``monitoring-<env>``: log groups, dashboard and alarms built from what the other stacks create.

Nothing here is a hard-coded name: node groups, the cluster, the OpenSearch
domain and the active database are read from the stacks that create them (cdktf
turns each read into a ``terraform_remote_state`` lookup), models come from
``models:`` in the environment's configuration, and alarms notify the topic of
the shared stack (upstream of every stack that raises alarms, so no cycle).
"""

from __future__ import annotations

from constructs import Construct

from constructs_lib.monitoring import metrics
from constructs_lib.monitoring.alarms import AlarmProps, Comparison, MetricAlarm, TreatMissingData
from constructs_lib.monitoring.dashboard import Dashboard, DashboardProps
from constructs_lib.monitoring.dashboard_widgets import (
    AlarmStatusWidget,
    DashboardLayout,
    GraphWidget,
    Metric,
    TextWidget,
)
from constructs_lib.monitoring.log_groups import LogGroups, LogGroupsProps
from constructs_lib.naming import ResourceKind
from constructs_lib.providers import aws
from stacks.ai_ml import AiMlStack
from stacks.ai_workloads import AiWorkloadsStack
from stacks.base import EnvironmentStack, StackContext
from stacks.compute import ComputeStack
from stacks.data import DataStack
from stacks.security import SecurityStack
from stacks.shared import SharedStack

GIB = 1024**3


class MonitoringStack(EnvironmentStack):
    """Dashboard, alarms and log groups of one environment.

    Attributes: ``dashboard`` (``.url``, ``.dashboard_name``), ``alarms`` (name -> :class:`MetricAlarm`),
    ``log_groups``, ``node_group_asg_names`` (role -> ASG name token).
    """

    function = "monitoring"

    def __init__(
        self,
        scope: Construct,
        ctx: StackContext,
        *,
        security: SecurityStack,
        shared: SharedStack,
        compute: ComputeStack,
        data: DataStack,
        ai_ml: AiMlStack,
        ai_workloads: AiWorkloadsStack,
    ):
        super().__init__(scope, ctx)
        cfg = ctx.config
        self.settings = cfg.monitoring
        self.region = cfg.aws.region
        self.alarm_topic_arn: str = shared.alarm_topic_arn
        self.alarms: dict[str, MetricAlarm] = {}

        self.log_groups = LogGroups(
            self,
            "logs",
            LogGroupsProps(
                application_log_group_name=self.naming.name("app", "logs", kind=ResourceKind.LOG_GROUP),
                component_log_group_names=tuple(
                    (component, self.naming.name(component, "logs", kind=ResourceKind.LOG_GROUP))
                    for component in self.settings.log_components
                ),
                retention_days=cfg.logging.retention_days,
                kms_key_arn=security.kms_key_arn("logs"),
            ),
        )

        # A managed node group is one Auto Scaling group whose name EKS chooses
        # (eks-<nodegroup>-<uuid>); the node group reports it, so read it from there.
        self.node_group_asg_names: dict[str, str] = {}
        for role, node_group_name in (("general", compute.general_node_group_name), ("gpu", ai_ml.gpu_node_group_name)):
            node_group = aws.data_aws_eks_node_group.DataAwsEksNodeGroup(
                self, f"{role}-node-group", cluster_name=compute.cluster_name, node_group_name=node_group_name
            )
            self.node_group_asg_names[role] = node_group.resources.get(0).autoscaling_groups.get(0).name

        cluster_name = compute.cluster_name
        domain_name = ai_ml.opensearch_domain_name
        database = data.active_database_identifier
        # Plot the models that are really deployed (the ai-workloads stack's model servers),
        # each with the latency threshold its configuration entry sets.
        deployed = ai_workloads.model_service_names
        models = [(model.name, model.latency_threshold_ms) for model in cfg.models if model.name in deployed]
        period = self.settings.period_seconds

        # --- alarms ---------------------------------------------------------------------------
        cpu_alarms = [
            self._alarm(
                f"{role}-cpu",
                f"Average CPU of the {role} node group above {self.settings.node_cpu_percent:g} %: "
                "check pod requests, the HPA and the node group's max size.",
                metrics.node_group_cpu(asg, period=period),
                Comparison.GREATER_THAN,
                self.settings.node_cpu_percent,
                # A node group scaled to zero (GPU outside office hours) publishes nothing.
                TreatMissingData.NOT_BREACHING,
            )
            for role, asg in self.node_group_asg_names.items()
        ]
        memory_alarm = self._alarm(
            "node-memory",
            f"Average node memory of cluster {cluster_name} above {self.settings.node_memory_percent:g} %: "
            "pods may be evicted; check memory requests and limits.",
            metrics.cluster_node_memory(cluster_name, period=period),
            Comparison.GREATER_THAN,
            self.settings.node_memory_percent,
            # INSUFFICIENT_DATA (shown on the dashboard) says Container Insights stopped publishing.
            TreatMissingData.MISSING,
        )
        latency_alarms = [
            self._alarm(
                f"latency-{name}",
                f"p95 inference latency of model {name} above its threshold of {threshold} ms "
                "(models[].latency_threshold_ms).",
                metrics.inference_latency(name),
                Comparison.GREATER_THAN,
                threshold,
                # No requests, no latency datapoints: not an incident.
                TreatMissingData.NOT_BREACHING,
            )
            for name, threshold in models
        ]
        rds_alarms = [
            self._alarm(
                "rds-cpu",
                f"CPU of the active database above {self.settings.rds_cpu_percent:g} %.",
                metrics.rds_cpu(database, period),
                Comparison.GREATER_THAN,
                self.settings.rds_cpu_percent,
                TreatMissingData.MISSING,
            ),
            self._alarm(
                "rds-connections",
                f"More than {self.settings.rds_max_connections} connections on the active database: "
                "clients will soon be refused.",
                metrics.rds_connections(database, period),
                Comparison.GREATER_THAN,
                self.settings.rds_max_connections,
                TreatMissingData.MISSING,
            ),
            self._alarm(
                "rds-storage",
                f"Free storage of the active database below {self.settings.rds_free_storage_gib:g} GiB.",
                metrics.rds_free_storage(database, period),
                Comparison.LESS_THAN,
                self.settings.rds_free_storage_gib * GIB,
                # A running instance always reports storage: silence means it is down.
                TreatMissingData.BREACHING,
            ),
        ]

        # --- dashboard ------------------------------------------------------------------------
        account_id = cfg.aws.account_id
        layout = DashboardLayout(
            rows=(
                (
                    TextWidget(
                        f"# Sophia AI, {ctx.env_name}\nNode groups, model servers, vector database and the "
                        "active database. Alarms notify the shared alarm topic.",
                        height=2,
                    ),
                ),
                (AlarmStatusWidget("Alarms", tuple(alarm.alarm_arn for alarm in self.alarms.values())),),
                (
                    GraphWidget(
                        "Node group CPU (%)",
                        tuple(
                            metrics.node_group_cpu(asg, label=role, period=period)
                            for role, asg in self.node_group_asg_names.items()
                        ),
                        y_min=0,
                        y_max=100,
                        annotations=(cpu_alarms[0].annotation,),
                    ),
                    GraphWidget(
                        "Cluster node memory (%)",
                        (metrics.cluster_node_memory(cluster_name, label="memory", period=period),),
                        y_min=0,
                        y_max=100,
                        annotations=(memory_alarm.annotation,),
                    ),
                ),
                *self._model_rows(models, latency_alarms),
                (
                    GraphWidget(
                        "Vector database cluster status",
                        metrics.opensearch_cluster_status(domain_name, account_id),
                        y_min=0,
                        y_max=1,
                    ),
                    GraphWidget(
                        "Vector database free storage (MB, smallest node)",
                        (metrics.opensearch_free_storage(domain_name, account_id),),
                        y_min=0,
                    ),
                ),
                (
                    GraphWidget(
                        "Active database CPU (%)",
                        (metrics.rds_cpu(database, period),),
                        width=8,
                        y_min=0,
                        y_max=100,
                        annotations=(rds_alarms[0].annotation,),
                    ),
                    GraphWidget(
                        "Active database connections",
                        (metrics.rds_connections(database, period),),
                        width=8,
                        y_min=0,
                        annotations=(rds_alarms[1].annotation,),
                    ),
                    GraphWidget(
                        "Active database free storage (bytes)",
                        (metrics.rds_free_storage(database, period),),
                        width=8,
                        y_min=0,
                        annotations=(rds_alarms[2].annotation,),
                    ),
                ),
            )
        )
        self.dashboard = Dashboard(
            self,
            "dashboard",
            DashboardProps(
                dashboard_name=self.naming.name("monitoring", "dashboard", kind=ResourceKind.CLOUDWATCH_DASHBOARD),
                region=self.region,
                layout=layout,
            ),
        )

        self.output("dashboard_url", self.dashboard.url, "Console address of the environment's CloudWatch dashboard")
        self.output("dashboard_name", self.dashboard.dashboard_name, "Name of the CloudWatch dashboard")
        self.output(
            "application_log_group_name",
            self.log_groups.application_log_group_name,
            "Log group every service of the application writes to",
        )
        self.output("log_group_names", list(self.log_groups.log_group_names), "Every log group: application first, then per component")
        self.output("alarm_topic_arn", self.alarm_topic_arn, "SNS topic every alarm of the environment notifies (shared stack)")
        self.output("alarm_names", [alarm.alarm_name for alarm in self.alarms.values()], "Every alarm of this stack")

    @staticmethod
    def _model_rows(models: list[tuple[str, int]], latency_alarms: list[MetricAlarm]) -> tuple[tuple[GraphWidget, ...], ...]:
        """One latency and one throughput line per configured model; no row for an environment without models."""
        if not models:
            return ()
        latency = GraphWidget(
            "Inference latency p95 (ms)",
            tuple(metrics.inference_latency(name) for name, _ in models),
            y_min=0,
            annotations=tuple(alarm.annotation for alarm in latency_alarms),
        )
        throughput = GraphWidget(
            "Inference throughput (requests)", tuple(metrics.inference_throughput(name) for name, _ in models), y_min=0
        )
        return ((latency, throughput),)

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
        alarm = MetricAlarm(
            self,
            f"alarm-{key}",
            AlarmProps(
                alarm_name=self.naming.name("monitoring", key, kind=ResourceKind.CLOUDWATCH_ALARM),
                description=description,
                metric=metric,
                comparison=comparison,
                threshold=threshold,
                evaluation_periods=self.settings.evaluation_periods,
                datapoints_to_alarm=self.settings.datapoints_to_alarm,
                treat_missing_data=treat_missing_data,
                alarm_actions=(self.alarm_topic_arn,),
                ok_actions=(self.alarm_topic_arn,),
            ),
        )
        self.alarms[key] = alarm
        return alarm


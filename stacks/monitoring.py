"""``monitoring-<env>``: log groups, dashboard and alarms built from what the other stacks create.

Nothing here is a hard-coded name: node groups, the cluster, the OpenSearch
domain and the active database are read from the stacks that create them (cdktf
turns each read into a ``terraform_remote_state`` lookup), models come from
``models:`` in the environment's configuration, and alarms notify the topic of
the shared stack (upstream of every stack that raises alarms, so no cycle).
"""

from __future__ import annotations

from constructs import Construct

from constructs_lib.monitoring.alarms import MetricAlarm
from constructs_lib.monitoring.log_groups import LogGroups, LogGroupsProps
from constructs_lib.monitoring.platform_alarms import (
    ModelLatency,
    PlatformAlarms,
    PlatformAlarmsProps,
    PlatformResources,
)
from constructs_lib.monitoring.platform_dashboard import PlatformDashboard, PlatformDashboardProps
from constructs_lib.monitoring.saved_queries import SavedQueries, SavedQueriesProps
from constructs_lib.naming import ResourceKind
from constructs_lib.providers import aws
from stacks.ai_ml import AiMlStack
from stacks.ai_workloads import AiWorkloadsStack
from stacks.base import EnvironmentStack, StackContext
from stacks.compute import ComputeStack
from stacks.data import DataStack
from stacks.outputs import export
from stacks.security import SecurityStack
from stacks.shared import SharedStack


class MonitoringStack(EnvironmentStack):
    """Dashboard, alarms and log groups of one environment.

    Exposes ``dashboard`` (``.url``, ``.dashboard_name``), ``alarms`` (name -> :class:`MetricAlarm`),
    ``log_groups``, ``saved_queries``, ``node_group_asg_names`` (role -> ASG name token).
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
        self.log_groups = LogGroups(
            self,
            "logs",
            LogGroupsProps(
                application_log_group_name=self.naming.name("app", "logs", kind=ResourceKind.LOG_GROUP),
                component_log_group_names=tuple(
                    (component, self.naming.name(component, "logs", kind=ResourceKind.LOG_GROUP))
                    for component in cfg.monitoring.log_components
                ),
                retention_days=cfg.logging.retention_days,
                kms_key_arn=security.kms_key_arn("logs"),
            ),
        )
        self.saved_queries = self._create_saved_queries(ctx, compute)
        self.node_group_asg_names = self._node_group_asg_names(compute, ai_ml)
        # Plot the models that are really deployed (the ai-workloads stack's model servers),
        # each with the latency threshold its configuration entry sets.
        watched = PlatformResources(
            node_group_asg_names=tuple(self.node_group_asg_names.items()),
            cluster_name=compute.cluster.cluster_name,
            opensearch_domain_name=ai_ml.vector_database.domain_name,
            database_identifier=data.database.active_database_identifier,
            models=tuple(
                ModelLatency(m.name, m.latency_threshold_ms) for m in cfg.models if m.name in ai_workloads.models
            ),
        )
        platform_alarms = PlatformAlarms(self, self._alarm_props(ctx, watched, shared))
        self.alarms: dict[str, MetricAlarm] = platform_alarms.alarms
        self.dashboard = PlatformDashboard(
            self,
            "dashboard",
            PlatformDashboardProps(
                dashboard_name=self.naming.name("monitoring", "dashboard", kind=ResourceKind.CLOUDWATCH_DASHBOARD),
                environment=ctx.env_name,
                region=cfg.aws.region,
                account_id=cfg.aws.account_id,
                resources=watched,
                alarms=platform_alarms,
                period_seconds=cfg.monitoring.period_seconds,
            ),
        ).dashboard
        self._outputs(shared)

    def _create_saved_queries(self, ctx: StackContext, compute: ComputeStack) -> SavedQueries:
        # Saved Logs Insights queries for the questions of an incident (docs/operations.md).
        # CloudTrail's log group belongs to the account baseline; until it is wired here,
        # the two CloudTrail queries are not created.
        return SavedQueries(
            self,
            "queries",
            SavedQueriesProps(
                folder=f"{ctx.project.name}-{ctx.env_name}",
                # References, not names: a query definition is created after the groups it reads.
                application_log_group_names=(
                    self.log_groups.application.name,
                    *(group.name for group in self.log_groups.components.values()),
                ),
                container_insights_log_group_names=compute.container_insights_log_groups,
                control_plane_log_group_name=compute.cluster.log_group_name,
            ),
        )

    def _node_group_asg_names(self, compute: ComputeStack, ai_ml: AiMlStack) -> dict[str, str]:
        """Role -> Auto Scaling group name of each node group.

        A managed node group is one Auto Scaling group whose name EKS chooses
        (eks-<nodegroup>-<uuid>); the node group reports it, so read it from there."""
        names: dict[str, str] = {}
        for role, node_group in (("general", compute.general_nodes), ("gpu", ai_ml.gpu_nodes)):
            data_source = aws.data_aws_eks_node_group.DataAwsEksNodeGroup(
                self,
                f"{role}-node-group",
                cluster_name=compute.cluster.cluster_name,
                node_group_name=node_group.node_group_name,
            )
            names[role] = data_source.resources.get(0).autoscaling_groups.get(0).name
        return names

    def _alarm_props(self, ctx: StackContext, watched: PlatformResources, shared: SharedStack) -> PlatformAlarmsProps:
        settings = ctx.config.monitoring
        return PlatformAlarmsProps(
            resources=watched,
            naming=self.naming,
            alarm_topic_arn=shared.alarm_topic.topic_arn,
            node_cpu_percent=settings.node_cpu_percent,
            node_memory_percent=settings.node_memory_percent,
            rds_cpu_percent=settings.rds_cpu_percent,
            rds_max_connections=settings.rds_max_connections,
            rds_free_storage_gib=settings.rds_free_storage_gib,
            period_seconds=settings.period_seconds,
            evaluation_periods=settings.evaluation_periods,
            datapoints_to_alarm=settings.datapoints_to_alarm,
        )

    def _outputs(self, shared: SharedStack) -> None:
        export(self, self.dashboard, prefix="dashboard_", url="Console address of the environment's CloudWatch dashboard")
        export(self, self.dashboard, dashboard_name="Name of the CloudWatch dashboard")
        export(
            self, self.log_groups, application_log_group_name="Log group every service of the application writes to"
        )
        self.output(
            "log_group_names",
            list(self.log_groups.log_group_names),
            "Every log group: application first, then per component",
        )
        # The shared stack's topic, repeated where the alarms are (a cross-stack reference).
        export(
            self,
            shared.alarm_topic,
            prefix="alarm_",
            topic_arn="SNS topic every alarm of the environment notifies (shared stack)",
        )
        self.output("alarm_names", [alarm.alarm_name for alarm in self.alarms.values()], "Every alarm of this stack")
        self.output(
            "saved_query_names",
            list(self.saved_queries.query_names.values()),
            "Logs Insights queries saved for this environment (CloudWatch > Logs Insights > Queries)",
        )

"""``compute-<env>``: the EKS cluster and its general-purpose node group."""

from __future__ import annotations

from constructs import Construct

from constructs_lib.compute import cluster_autoscaler
from constructs_lib.compute.cluster_autoscaler import ClusterAutoscaler
from constructs_lib.compute.eks_cluster import Addon, AddonServiceAccount, EksCluster
from constructs_lib.compute.eks_cluster_props import ClusterAccess, EksClusterProps
from constructs_lib.compute.irsa_role import IrsaRole, IrsaRoleProps
from constructs_lib.compute.managed_node_group_props import NodeGroupOptions
from constructs_lib.monitoring.saved_queries import container_insights_log_groups
from constructs_lib.naming import ResourceKind
from constructs_lib.security.iam_role import InlinePolicy
from stacks.base import EnvironmentStack, StackContext
from stacks.baseline import BaselineStack
from stacks.networking import NetworkingStack
from stacks.outputs import export
from stacks.security import SecurityStack


class ComputeStack(EnvironmentStack):
    """Exposes ``cluster`` (:class:`EksCluster`: ``cluster_name``, ``cluster_endpoint``,
    ``node_security_group_id``, ``oidc_provider_arn``, ...), ``general_nodes``
    (:class:`ManagedNodeGroup`), ``cluster_autoscaler_role`` (:class:`IrsaRole`) and
    ``container_insights_log_groups`` (kind -> log group name)."""

    function = "compute"

    def __init__(
        self,
        scope: Construct,
        ctx: StackContext,
        *,
        baseline: BaselineStack,
        security: SecurityStack,
        networking: NetworkingStack,
    ):
        super().__init__(scope, ctx)
        name = self.naming.name
        cluster_name = name("compute", "eks", kind=ResourceKind.EKS_CLUSTER)
        # Where Container Insights writes (the add-on's Fluent Bit and CloudWatch agent);
        # created here, read by the monitoring stack's saved queries.
        self.container_insights_log_groups: dict[str, str] = container_insights_log_groups(cluster_name)
        props = self._cluster_props(ctx, cluster_name, baseline, security, networking)
        self.cluster = EksCluster(self, "cluster", props)
        self.general_nodes = self.cluster.add_node_group(self, "general-nodes", self._general_nodes(ctx, networking))
        # The node autoscaler's IRSA role lives with the cluster's other IRSA roles; the
        # autoscaler itself runs from ai-workloads (the stack with the Kubernetes provider).
        self.cluster_autoscaler_role = IrsaRole(
            self,
            "cluster-autoscaler-role",
            IrsaRoleProps(
                role_name=name("compute", "cluster-autoscaler-role", kind=ResourceKind.IAM_ROLE),
                oidc_provider_arn=self.cluster.oidc_provider_arn,
                oidc_provider_url=self.cluster.oidc_provider_url,
                namespace=cluster_autoscaler.NAMESPACE,
                service_account=cluster_autoscaler.SERVICE_ACCOUNT,
                inline_policies=(InlinePolicy("cluster-autoscaler", ClusterAutoscaler.iam_statements(cluster_name)),),
            ),
        )

        export(
            self,
            self.cluster,
            cluster_name="Name of the EKS cluster",
            cluster_endpoint="Kubernetes API endpoint (private unless eks.endpoint_public_access)",
            cluster_security_group_id="Security group EKS created for the control plane and nodes",
            node_security_group_id="Security group of every node: the application tier the data tier admits",
            oidc_provider_arn="IAM OIDC provider of the cluster, for IRSA roles",
        )
        export(self, self.general_nodes, prefix="general_", node_group_name="General-purpose managed node group")
        export(
            self,
            self.cluster_autoscaler_role,
            prefix="cluster_autoscaler_",
            role_arn="IRSA role of kube-system/cluster-autoscaler",
        )

    def _cluster_props(
        self,
        ctx: StackContext,
        cluster_name: str,
        baseline: BaselineStack,
        security: SecurityStack,
        networking: NetworkingStack,
    ) -> EksClusterProps:
        eks, name = ctx.config.eks, self.naming.name
        return EksClusterProps(
            cluster_name=cluster_name,
            kubernetes_version=eks.kubernetes_version,
            support_type=eks.support_type,
            vpc_id=networking.network.vpc_id,
            subnet_ids=networking.network.private_subnet_ids,
            role_name=name("compute", "eks-cluster-role", kind=ResourceKind.IAM_ROLE),
            secrets_kms_key_arn=security.kms_key_arn("eks"),
            log_kms_key_arn=security.kms_key_arn("logs"),
            log_retention_days=ctx.config.logging.retention_days,
            node_security_group_name=name("compute", "node-sg", kind=ResourceKind.SECURITY_GROUP),
            endpoint_public_access=eks.endpoint_public_access,
            public_access_cidrs=tuple(eks.public_access_cidrs),
            log_types=tuple(eks.log_types),
            # The roles come from the account baseline (one home per ARN); the
            # references also make the entries wait for the roles to exist.
            access=(
                ClusterAccess("cluster-admin", baseline.cluster_admin_role.role_arn),
                # Deploys the Kubernetes stacks (ai-workloads) through this entry.
                ClusterAccess("deploy", baseline.deploy_role.role_arn),
                # Plans them: the drift job reads every object they manage, RBAC included
                # (AmazonEKSViewPolicy cannot read ClusterRoles).
                ClusterAccess("plan", baseline.plan_role.role_arn, access_policy="AmazonEKSAdminViewPolicy"),
            ),
            addons=self._addons(ctx),
        )

    def _addons(self, ctx: StackContext) -> tuple[Addon, ...]:
        versions, name = ctx.config.eks.addons, self.naming.name
        return (
            Addon("vpc-cni", versions.vpc_cni, before_compute=True),
            Addon("kube-proxy", versions.kube_proxy, before_compute=True),
            Addon("coredns", versions.coredns),
            Addon("metrics-server", versions.metrics_server),
            Addon(
                "aws-ebs-csi-driver",
                versions.aws_ebs_csi_driver,
                service_account=AddonServiceAccount(
                    role_name=name("compute", "ebs-csi-role", kind=ResourceKind.IAM_ROLE),
                    namespace="kube-system",
                    service_account="ebs-csi-controller-sa",
                    managed_policies=("service-role/AmazonEBSCSIDriverPolicy",),
                ),
            ),
            Addon(
                "amazon-cloudwatch-observability",
                versions.amazon_cloudwatch_observability,
                service_account=AddonServiceAccount(
                    role_name=name("compute", "cw-observability-role", kind=ResourceKind.IAM_ROLE),
                    namespace="amazon-cloudwatch",
                    service_account="cloudwatch-agent",
                    managed_policies=("CloudWatchAgentServerPolicy",),
                ),
                # Where Fluent Bit and the agent write (Container Insights metrics are
                # EMF events in "performance").
                log_group_names=tuple(self.container_insights_log_groups.values()),
            ),
        )

    def _general_nodes(self, ctx: StackContext, networking: NetworkingStack) -> NodeGroupOptions:
        sizes, scaling, name = ctx.config.compute.instance_sizes, ctx.config.compute.autoscaling, self.naming.name
        return NodeGroupOptions(
            node_group_name=name("compute", "general-ng", kind=ResourceKind.EKS_NODE_GROUP),
            node_role_name=name("compute", "general-node-role", kind=ResourceKind.IAM_ROLE),
            subnet_ids=networking.network.private_subnet_ids,
            # api first: the autoscaler plans with the first type, and the smaller one
            # never promises a pod more room than a node will have.
            instance_types=tuple(dict.fromkeys((sizes.api, sizes.worker))),
            min_size=scaling.min,
            max_size=scaling.max,
            desired_size=scaling.desired,
            labels={"workload-type": "general"},
            instance_tags={**ctx.default_tags, "Component": "compute"},
        )

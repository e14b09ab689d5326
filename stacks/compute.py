"""``compute-<env>``: the EKS cluster and its general-purpose node group."""

from __future__ import annotations

from constructs import Construct

from constructs_lib.compute import cluster_autoscaler
from constructs_lib.compute.cluster_autoscaler import ClusterAutoscaler
from constructs_lib.compute.eks_cluster import Addon, AddonServiceAccount, ClusterAccess, EksCluster, EksClusterProps
from constructs_lib.compute.irsa_role import IrsaRole, IrsaRoleProps
from constructs_lib.compute.managed_node_group import NodeGroupOptions
from constructs_lib.monitoring.saved_queries import container_insights_log_groups
from constructs_lib.naming import ResourceKind
from constructs_lib.security.iam_role import InlinePolicy
from stacks.base import EnvironmentStack, StackContext
from stacks.baseline import BaselineStack
from stacks.networking import NetworkingStack
from stacks.security import SecurityStack


class ComputeStack(EnvironmentStack):
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
        cfg = ctx.config
        eks = cfg.eks
        name = self.naming.name

        cluster_name = name("compute", "eks", kind=ResourceKind.EKS_CLUSTER)
        # Where Container Insights writes (the add-on's Fluent Bit and CloudWatch agent);
        # created here, read by the monitoring stack's saved queries.
        self.container_insights_log_groups: dict[str, str] = container_insights_log_groups(cluster_name)
        self.cluster = EksCluster(
            self,
            "cluster",
            EksClusterProps(
                cluster_name=cluster_name,
                kubernetes_version=eks.kubernetes_version,
                support_type=eks.support_type,
                vpc_id=networking.vpc_id,
                subnet_ids=networking.private_subnet_ids,
                role_name=name("compute", "eks-cluster-role", kind=ResourceKind.IAM_ROLE),
                secrets_kms_key_arn=security.kms_key_arn("eks"),
                log_kms_key_arn=security.kms_key_arn("logs"),
                log_retention_days=cfg.logging.retention_days,
                node_security_group_name=name("compute", "node-sg", kind=ResourceKind.SECURITY_GROUP),
                endpoint_public_access=eks.endpoint_public_access,
                public_access_cidrs=tuple(eks.public_access_cidrs),
                log_types=tuple(eks.log_types),
                # The roles come from the account baseline (one home per ARN); the
                # references also make the entries wait for the roles to exist.
                access=(
                    ClusterAccess("cluster-admin", baseline.cluster_admin_role_arn),
                    # Deploys the Kubernetes stacks (ai-workloads) through this entry.
                    ClusterAccess("deploy", baseline.deploy_role_arn),
                    # Plans them: the drift job reads every object they manage, RBAC included
                    # (AmazonEKSViewPolicy cannot read ClusterRoles).
                    ClusterAccess("plan", baseline.plan_role_arn, access_policy="AmazonEKSAdminViewPolicy"),
                ),
                addons=(
                    Addon("vpc-cni", eks.addons.vpc_cni, before_compute=True),
                    Addon("kube-proxy", eks.addons.kube_proxy, before_compute=True),
                    Addon("coredns", eks.addons.coredns),
                    Addon("metrics-server", eks.addons.metrics_server),
                    Addon(
                        "aws-ebs-csi-driver",
                        eks.addons.aws_ebs_csi_driver,
                        service_account=AddonServiceAccount(
                            role_name=name("compute", "ebs-csi-role", kind=ResourceKind.IAM_ROLE),
                            namespace="kube-system",
                            service_account="ebs-csi-controller-sa",
                            managed_policies=("service-role/AmazonEBSCSIDriverPolicy",),
                        ),
                    ),
                    Addon(
                        "amazon-cloudwatch-observability",
                        eks.addons.amazon_cloudwatch_observability,
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
                ),
            ),
        )
        sizes, scaling = cfg.compute.instance_sizes, cfg.compute.autoscaling
        self.general_nodes = self.cluster.add_node_group(
            self,
            "general-nodes",
            NodeGroupOptions(
                node_group_name=name("compute", "general-ng", kind=ResourceKind.EKS_NODE_GROUP),
                node_role_name=name("compute", "general-node-role", kind=ResourceKind.IAM_ROLE),
                subnet_ids=networking.private_subnet_ids,
                # api first: the autoscaler plans with the first type, and the smaller one
                # never promises a pod more room than a node will have.
                instance_types=tuple(dict.fromkeys((sizes.api, sizes.worker))),
                min_size=scaling.min,
                max_size=scaling.max,
                desired_size=scaling.desired,
                labels={"workload-type": "general"},
                instance_tags={**ctx.default_tags, "Component": "compute"},
            ),
        )

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

        # The contract other stacks read (see stacks/__init__.py).
        self.cluster_name: str = self.cluster.cluster_name
        self.cluster_endpoint: str = self.cluster.cluster_endpoint
        self.cluster_certificate_authority_data: str = self.cluster.cluster_certificate_authority_data
        self.cluster_security_group_id: str = self.cluster.cluster_security_group_id
        self.node_security_group_id: str = self.cluster.node_security_group_id
        self.oidc_provider_arn: str = self.cluster.oidc_provider_arn
        self.oidc_provider_url: str = self.cluster.oidc_provider_url
        self.general_node_group_name: str = self.general_nodes.node_group_name
        self.control_plane_log_group_name: str = self.cluster.log_group_name
        self.cluster_autoscaler_role_arn: str = self.cluster_autoscaler_role.role_arn

        self.output("cluster_name", self.cluster_name, "Name of the EKS cluster")
        self.output("cluster_endpoint", self.cluster_endpoint, "Kubernetes API endpoint (private unless eks.endpoint_public_access)")
        self.output("cluster_security_group_id", self.cluster_security_group_id, "Security group EKS created for the control plane and nodes")
        self.output("node_security_group_id", self.node_security_group_id, "Security group of every node: the application tier the data tier admits")
        self.output("oidc_provider_arn", self.oidc_provider_arn, "IAM OIDC provider of the cluster, for IRSA roles")
        self.output("general_node_group_name", self.general_node_group_name, "General-purpose managed node group")
        self.output(
            "cluster_autoscaler_role_arn", self.cluster_autoscaler_role_arn, "IRSA role of kube-system/cluster-autoscaler"
        )

"""``ClusterAutoscaler``: the Kubernetes cluster-autoscaler for the EKS node groups (Kubernetes provider).

It watches for pods that stay Pending for want of a node and raises the desired size of
a node group that would hold them; it lowers it again once a node has been unneeded for
``scale_down_unneeded_time``. It finds the groups by their Auto Scaling group tags
(``k8s.io/cluster-autoscaler/enabled`` and ``k8s.io/cluster-autoscaler/<cluster>``, put on
every group by :class:`~constructs_lib.compute.managed_node_group.ManagedNodeGroup`) and
never goes outside a group's ``min_size``..``max_size``.

Scale from zero: an empty group has no node to copy, so the autoscaler builds a template
node from the group's ``k8s.io/cluster-autoscaler/node-template/{label,taint,resources}/...``
tags. ManagedNodeGroup writes those tags from the very labels, taints and extended
resources (``nvidia.com/gpu``) it gives EKS, so the template matches the nodes EKS will
start. The autoscaler can also read labels and taints of a managed node group from the EKS
API (``eks:DescribeNodegroup``); this construct does not grant it (see
:meth:`ClusterAutoscaler.iam_statements`).

The IAM role is not created here: the autoscaler's pod assumes an IRSA role (created with
the cluster's other IRSA roles, from :meth:`ClusterAutoscaler.iam_statements`) through the
service account ``kube-system/cluster-autoscaler``. The Kubernetes bindings are loaded on
first use, so a stack that only needs :meth:`ClusterAutoscaler.iam_statements` never loads them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import Token
from constructs import Construct

from constructs_lib import providers, tagging
from constructs_lib.errors import ValidationError
from constructs_lib.pod_security import restricted_container, restricted_pod
from constructs_lib.quantities import check_requests_and_limits
from constructs_lib.security.policy import Condition, Statement, check_role_arn

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
NAME = "cluster-autoscaler"
DEFAULT_IMAGE_REPOSITORY = "registry.k8s.io/autoscaling/cluster-autoscaler"
# Expanders that need nothing else deployed (priority needs a ConfigMap, price and grpc a
# provider or a server of their own).
EXPANDERS = ("least-waste", "most-pods", "random")
METRICS_PORT = 8085  # --address default: /metrics and /health-check
_UID = 65534  # "nobody", as the upstream chart runs it

_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
_MINOR = re.compile(r"^(\d+)\.(\d+)$")
_DURATION = re.compile(r"^[1-9]\d*[smh]$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_AUTOSCALER_TAG = "k8s.io/cluster-autoscaler"


@dataclass(frozen=True)
class ClusterAutoscalerProps:
    cluster_name: str
    """Name of the EKS cluster: the autoscaler manages the Auto Scaling groups tagged
    ``k8s.io/cluster-autoscaler/<cluster_name>``."""
    region: str
    """AWS region of the cluster, given to the pod as ``AWS_REGION``: with the nodes' IMDS hop
    limit of 1 a container cannot ask instance metadata for it."""
    kubernetes_version: str
    """Kubernetes minor of the cluster, e.g. ``"1.33"``."""
    version: str
    """cluster-autoscaler release, ``vX.Y.Z``, whose ``X.Y`` equals ``kubernetes_version``:
    each release simulates the scheduler of its own Kubernetes minor, and upstream supports
    only that pairing (https://github.com/kubernetes/autoscaler/tree/master/cluster-autoscaler#releases).
    Bump it with the cluster version."""
    role_arn: str
    """IAM role the pod assumes through IRSA, trusted for ``kube-system/cluster-autoscaler``
    only and allowed :meth:`ClusterAutoscaler.iam_statements`."""
    image_repository: str = DEFAULT_IMAGE_REPOSITORY
    """Image repository (a mirror, say); the tag is ``version``. Default: the upstream
    ``registry.k8s.io/autoscaling/cluster-autoscaler``."""
    expander: str = "least-waste"
    """Which group grows when several would do: ``least-waste`` (least idle CPU and memory
    after the scale-up), ``most-pods`` or ``random``. Default: ``least-waste``."""
    scale_down_unneeded_time: str = "10m"
    """How long a node must be unneeded before it is removed (``s``/``m``/``h``). Default:
    ``10m`` (upstream's)."""
    node_selector: Mapping[str, str] = field(default_factory=lambda: {"workload-type": "general"})
    """Nodes the autoscaler runs on. Default: the general node group, never the GPU nodes
    it may scale to zero."""
    cpu_request: str = "100m"
    """CPU request. Default: ``100m``."""
    memory_request: str = "600Mi"
    """Memory request. Default: ``600Mi`` (upstream's example; it grows with the cluster)."""
    cpu_limit: str = "500m"
    """CPU limit (>= request): room for a scale-up simulation. Default: ``500m``."""
    memory_limit: str = "600Mi"
    """Memory limit (>= request). Default: ``600Mi``, equal to the request so the pod is
    never the first evicted for memory a node promised elsewhere."""


class ClusterAutoscaler(Construct):
    """cluster-autoscaler in ``kube-system``: service account (IRSA), RBAC, Deployment.

    Secure defaults: non-root (UID 65534), read-only root filesystem, no privilege
    escalation, every capability dropped, RuntimeDefault seccomp, no host path,
    ``system-cluster-critical`` priority, requests and limits.

    Outputs: ``namespace``, ``service_account_name``, ``deployment_name``, ``image``.
    """

    def __init__(self, scope: Construct, id_: str, props: ClusterAutoscalerProps):
        super().__init__(scope, id_)
        tagging.set_component(self, "compute")
        self._validate(id_, props)
        self.props = props
        self.image = f"{props.image_repository}:{props.version}"
        k8s = providers.k8s
        labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/managed-by": "terraform"}

        self.service_account = k8s.service_account_v1.ServiceAccountV1(
            self,
            "service-account",
            metadata=k8s.service_account_v1.ServiceAccountV1Metadata(
                name=SERVICE_ACCOUNT,
                namespace=NAMESPACE,
                labels=labels,
                annotations={"eks.amazonaws.com/role-arn": props.role_arn},
            ),
            # The autoscaler is a Kubernetes API client: it needs its token.
            automount_service_account_token=True,
        )
        self.cluster_role, self.role = self._rbac(labels)
        self.deployment = self._deployment(props, labels)

        self.namespace: str = NAMESPACE
        self.service_account_name: str = SERVICE_ACCOUNT
        self.deployment_name: str = NAME

    # --- behaviour ------------------------------------------------------------------------

    @staticmethod
    def iam_statements(cluster_name: str) -> tuple[Statement, ...]:
        """The least privilege the autoscaler needs on AWS, for its IRSA role.

        From the upstream AWS provider's IAM policy
        (https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md#iam-policy),
        narrowed: the two writes only on groups tagged ``k8s.io/cluster-autoscaler/<cluster_name>
        = owned``, which ManagedNodeGroup (and EKS) put on this cluster's groups alone, so
        the role cannot resize another cluster's or anyone else's group. The reads have no
        resource-level permissions in IAM and stay on ``*``.

        ``eks:DescribeNodegroup`` is left out on purpose: it would let the autoscaler read
        labels and taints of empty managed groups from the EKS API, which the ASG
        ``node-template`` tags already give it (the README's "Auto-Discovery Setup"), and
        the tags also carry ``nvidia.com/gpu``, which the API does not. Without it the
        autoscaler logs an AccessDenied for that call and builds the template from the
        tags (cloudprovider/aws/aws_manager.go keeps the tag-derived labels and taints).
        """
        return (
            Statement(
                sid="DiscoverGroupsAndInstanceTypes",
                actions=(
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                ),
                resources=("*",),
            ),
            Statement(
                sid="ResizeThisClustersGroups",
                actions=("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"),
                resources=("*",),
                conditions=(Condition("StringEquals", f"aws:ResourceTag/{_AUTOSCALER_TAG}/{cluster_name}", ("owned",)),),
            ),
        )

    # --- pieces ---------------------------------------------------------------------------

    def _rbac(self, labels: dict[str, str]):
        # Upstream's chart rules (charts/cluster-autoscaler/templates/clusterrole.yaml), less
        # what an AWS install does not use: no create/delete of nodes, no endpoints (leader
        # election uses a Lease), no extensions/* (not served since 1.16), no patch on Jobs;
        # ConfigMaps and the Lease are namespaced to kube-system instead of cluster-wide.
        k8s = providers.k8s
        cr = k8s.cluster_role_v1
        read = ["get", "list", "watch"]
        cluster_rules = [
            cr.ClusterRoleV1Rule(api_groups=[""], resources=["events"], verbs=["create", "patch"]),
            # Drain before scale-down; taint nodes ToBeDeletedByClusterAutoscaler.
            cr.ClusterRoleV1Rule(api_groups=[""], resources=["pods/eviction"], verbs=["create"]),
            cr.ClusterRoleV1Rule(api_groups=[""], resources=["pods/status"], verbs=["update"]),
            cr.ClusterRoleV1Rule(api_groups=[""], resources=["nodes"], verbs=[*read, "update"]),
            cr.ClusterRoleV1Rule(
                api_groups=[""],
                resources=["namespaces", "pods", "services", "replicationcontrollers", "persistentvolumeclaims", "persistentvolumes"],
                verbs=read,
            ),
            cr.ClusterRoleV1Rule(api_groups=["apps"], resources=["daemonsets", "replicasets", "statefulsets"], verbs=read),
            cr.ClusterRoleV1Rule(api_groups=["batch"], resources=["jobs", "cronjobs"], verbs=read),
            cr.ClusterRoleV1Rule(api_groups=["policy"], resources=["poddisruptionbudgets"], verbs=["list", "watch"]),
            cr.ClusterRoleV1Rule(
                api_groups=["storage.k8s.io"],
                resources=["storageclasses", "csinodes", "csidrivers", "csistoragecapacities", "volumeattachments"],
                verbs=read,
            ),
        ]
        cluster_role = cr.ClusterRoleV1(
            self, "cluster-role", metadata=cr.ClusterRoleV1Metadata(name=NAME, labels=labels), rule=cluster_rules
        )
        crb = k8s.cluster_role_binding_v1
        crb.ClusterRoleBindingV1(
            self,
            "cluster-role-binding",
            metadata=crb.ClusterRoleBindingV1Metadata(name=NAME, labels=labels),
            role_ref=crb.ClusterRoleBindingV1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=NAME),
            subject=[crb.ClusterRoleBindingV1Subject(kind="ServiceAccount", name=SERVICE_ACCOUNT, namespace=NAMESPACE)],
            depends_on=[cluster_role],
        )
        r = k8s.role_v1
        role = r.RoleV1(
            self,
            "role",
            metadata=r.RoleV1Metadata(name=NAME, namespace=NAMESPACE, labels=labels),
            rule=[
                # The status ConfigMap (kube-system/cluster-autoscaler-status).
                r.RoleV1Rule(api_groups=[""], resources=["configmaps"], verbs=["create", "get", "list", "watch"]),
                r.RoleV1Rule(
                    api_groups=[""], resources=["configmaps"], resource_names=["cluster-autoscaler-status"], verbs=["delete", "update"]
                ),
                # Leader election (a Lease named cluster-autoscaler in kube-system).
                r.RoleV1Rule(api_groups=["coordination.k8s.io"], resources=["leases"], verbs=["create"]),
                r.RoleV1Rule(api_groups=["coordination.k8s.io"], resources=["leases"], resource_names=[NAME], verbs=["get", "update"]),
            ],
        )
        rb = k8s.role_binding_v1
        rb.RoleBindingV1(
            self,
            "role-binding",
            metadata=rb.RoleBindingV1Metadata(name=NAME, namespace=NAMESPACE, labels=labels),
            role_ref=rb.RoleBindingV1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=NAME),
            subject=[rb.RoleBindingV1Subject(kind="ServiceAccount", name=SERVICE_ACCOUNT, namespace=NAMESPACE)],
            depends_on=[role],
        )
        return cluster_role, role

    def _deployment(self, p: ClusterAutoscalerProps, labels: dict[str, str]):
        d = providers.k8s.deployment_v1
        return d.DeploymentV1(
            self,
            "deployment",
            metadata=d.DeploymentV1Metadata(name=NAME, namespace=NAMESPACE, labels=labels),
            spec=d.DeploymentV1Spec(
                # One active autoscaler per cluster (it also takes a leader-election Lease).
                replicas="1",
                selector=d.DeploymentV1SpecSelector(match_labels={"app.kubernetes.io/name": NAME}),
                template=d.DeploymentV1SpecTemplate(
                    metadata=d.DeploymentV1SpecTemplateMetadata(
                        labels=labels,
                        # It must not drain its own node away while it works.
                        annotations={"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"},
                    ),
                    spec=d.DeploymentV1SpecTemplateSpec(
                        service_account_name=self.service_account.metadata.name,
                        automount_service_account_token=True,
                        # Evicted last: without it no Pending pod ever gets a node.
                        priority_class_name="system-cluster-critical",
                        node_selector={"kubernetes.io/os": "linux", **p.node_selector},
                        # fs_group makes the projected IRSA web-identity token readable by the non-root user.
                        security_context=restricted_pod(_UID),
                        container=[self._container(p)],
                    ),
                ),
            ),
            wait_for_rollout=True,
        )

    @staticmethod
    def _args(p: ClusterAutoscalerProps) -> list[str]:
        return [
            "--cloud-provider=aws",
            f"--namespace={NAMESPACE}",
            f"--node-group-auto-discovery=asg:tag={_AUTOSCALER_TAG}/enabled,{_AUTOSCALER_TAG}/{p.cluster_name}",
            f"--expander={p.expander}",
            # Node groups of the same shape in different AZs grow together.
            "--balance-similar-node-groups=true",
            # Never remove a node that runs a kube-system pod (CoreDNS, metrics-server, this one).
            "--skip-nodes-with-system-pods=true",
            # The model servers keep only scratch data in an emptyDir (/tmp): with the default
            # (true) no node running one could ever be removed, GPU nodes included.
            "--skip-nodes-with-local-storage=false",
            f"--scale-down-unneeded-time={p.scale_down_unneeded_time}",
            "--logtostderr=true",
            "--stderrthreshold=info",
            "--v=2",
        ]

    def _container(self, p: ClusterAutoscalerProps):
        d = providers.k8s.deployment_v1
        return d.DeploymentV1SpecTemplateSpecContainer(
            name=NAME,
            image=self.image,
            image_pull_policy="IfNotPresent",
            command=["./cluster-autoscaler"],
            args=self._args(p),
            env=[d.DeploymentV1SpecTemplateSpecContainerEnv(name="AWS_REGION", value=p.region)],
            port=[d.DeploymentV1SpecTemplateSpecContainerPort(name="http", container_port=METRICS_PORT, protocol="TCP")],
            resources=d.DeploymentV1SpecTemplateSpecContainerResources(
                requests={"cpu": p.cpu_request, "memory": p.memory_request},
                limits={"cpu": p.cpu_limit, "memory": p.memory_limit},
            ),
            # /health-check fails once the main loop stalls: restart it, and report it not ready.
            liveness_probe=d.DeploymentV1SpecTemplateSpecContainerLivenessProbe(
                http_get=d.DeploymentV1SpecTemplateSpecContainerLivenessProbeHttpGet(path="/health-check", port="http"),
                period_seconds=10,
                timeout_seconds=5,
                failure_threshold=3,
            ),
            readiness_probe=d.DeploymentV1SpecTemplateSpecContainerReadinessProbe(
                http_get=d.DeploymentV1SpecTemplateSpecContainerReadinessProbeHttpGet(path="/health-check", port="http"),
                period_seconds=10,
                timeout_seconds=5,
                failure_threshold=3,
            ),
            security_context=restricted_container(_UID),
        )

    # --- validation -----------------------------------------------------------------------

    @staticmethod
    def _validate(id_: str, p: ClusterAutoscalerProps) -> None:
        where = f"ClusterAutoscaler {id_}"
        minor = _MINOR.fullmatch(p.kubernetes_version)
        if not minor:
            raise ValidationError(f"{where}: kubernetes_version must look like '1.33', got {p.kubernetes_version!r}")
        version = _VERSION.fullmatch(p.version)
        if not version:
            raise ValidationError(f"{where}: version must be a release tag vX.Y.Z, got {p.version!r}")
        if version.group(1, 2) != minor.group(1, 2):
            raise ValidationError(
                f"{where}: version {p.version!r} does not match kubernetes_version {p.kubernetes_version!r}: "
                f"use a v{p.kubernetes_version}.x release (each release supports only its own Kubernetes minor)"
            )
        if not p.image_repository or ":" in p.image_repository.rsplit("/", 1)[-1] or "@" in p.image_repository:
            raise ValidationError(f"{where}: image_repository must be a repository without tag or digest, got {p.image_repository!r}")
        if p.expander not in EXPANDERS:
            raise ValidationError(f"{where}: expander must be one of {list(EXPANDERS)}, got {p.expander!r}")
        if not _DURATION.fullmatch(p.scale_down_unneeded_time):
            raise ValidationError(
                f"{where}: scale_down_unneeded_time must be a duration like '10m', got {p.scale_down_unneeded_time!r}"
            )
        if not Token.is_unresolved(p.region) and not _REGION.fullmatch(p.region):
            raise ValidationError(f"{where}: region must be an AWS region, got {p.region!r}")
        check_role_arn(where, "role_arn", p.role_arn)
        if not p.cluster_name:
            raise ValidationError(f"{where}: cluster_name must name the EKS cluster, got {p.cluster_name!r}")
        if not p.node_selector:
            raise ValidationError(f"{where}: node_selector must pin the autoscaler to nodes it never scales to zero, got {{}}")
        check_requests_and_limits(
            where, cpu_request=p.cpu_request, cpu_limit=p.cpu_limit, memory_request=p.memory_request, memory_limit=p.memory_limit
        )

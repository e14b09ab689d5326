"""``ModelDeployment``: one model server on Kubernetes (Kubernetes provider).

A namespace (Pod Security Admission ``restricted``), a Deployment with a
restrictive security context and startup/readiness/liveness probes, a ClusterIP
Service (80 -> 8080), an HPA v2 on CPU and memory that owns the replica count,
and optionally a PodDisruptionBudget. GPU models request ``nvidia.com/gpu`` and
tolerate the GPU node group's taint, and only land on its labelled nodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from constructs_lib.ai.gpu_node_group import GPU_LABELS, GPU_RESOURCE, GPU_TAINT
from constructs_lib.compute.capacity import ROLLOUT_SURGE_PODS
from constructs_lib.errors import ValidationError
from constructs_lib.naming import K8S_LABEL_VALUE
from constructs_lib.pod_security import restricted_container, restricted_pod
from constructs_lib.providers import k8s
from constructs_lib.quantities import check_requests_and_limits
from constructs_lib.security.policy import check_role_arn

# Read from the GPU node group so that the toleration and selector cannot drift from the
# taint and label EKS puts on its nodes; GPU_RESOURCE is what the NVIDIA device plugin advertises.
GPU_NODE_LABEL = ("nvidia.com/gpu", GPU_LABELS["nvidia.com/gpu"])
GPU_TAINT_KEY = GPU_TAINT.key
GPU_TAINT_EFFECT = GPU_TAINT.effect

CONTAINER_PORT = 8080
SERVICE_PORT = 80

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def service_account_of(model_name: str, namespace: str | None = None) -> tuple[str, str]:
    """``(namespace, service account)`` a model's pods run as: what an IRSA role must trust."""
    return (namespace or f"model-{model_name}", f"model-{model_name}")


@dataclass(frozen=True)
class ModelDeploymentProps:
    model_name: str
    """Model name (RFC 1123 label, <= 57 characters); resources are named ``model-<name>``."""
    model_version: str
    """Version, a Kubernetes label value (``version`` label and ``MODEL_VERSION``)."""
    image: str
    """Full image reference, pinned: ``repo:tag`` in an immutable-tag registry or ``repo@sha256:...``."""
    environment: str
    """Environment name, the ``environment`` label and ``ENVIRONMENT`` variable."""
    cpu_request: str
    """CPU request, e.g. ``"500m"`` or ``"2"``."""
    memory_request: str
    """Memory request, e.g. ``"2Gi"``."""
    cpu_limit: str
    """CPU limit (>= request)."""
    memory_limit: str
    """Memory limit (>= request)."""
    min_replicas: int = 1
    """HPA lower bound. Default: 1."""
    max_replicas: int = 3
    """HPA upper bound. Default: 3."""
    cpu_target_percent: int = 70
    """HPA target average CPU utilisation of the request. Default: 70."""
    memory_target_percent: int = 80
    """HPA target average memory utilisation of the request. Default: 80."""
    scale_down_stabilization_seconds: int = 300
    """How long the HPA waits before removing replicas, so a brief lull does not
    evict warm model servers that take minutes to load. Default: 300."""
    gpu_enabled: bool = False
    """Request GPUs and schedule on the GPU node group only. Default: off."""
    gpu_count: int = 1
    """GPUs per pod when ``gpu_enabled``. Default: 1."""
    pod_disruption_budget: bool = False
    """Keep all but one replica up during voluntary disruptions (drains, upgrades). Default: off."""
    namespace: str | None = None
    """Namespace, created here. Default: ``model-<name>``."""
    endpoint_path: str | None = None
    """Inference path served by the container. Default: ``/api/models/<name>``."""
    health_path: str = "/health"
    """Path of the startup, readiness and liveness probes. Default: ``/health``."""
    startup_timeout_seconds: int = 600
    """Time a pod may take to load its model before the kubelet restarts it. Default: 600."""
    run_as_user: int = 10001
    """Non-root UID (and GID) of the container. Default: 10001."""
    tmp_size_limit: str = "1Gi"
    """Size of the writable ``/tmp`` (the root filesystem is read-only). Default: 1Gi."""
    wait_for_rollout: bool = True
    """Let ``terraform apply`` wait until the rollout completes (fails the apply on a bad image). Default: on."""
    iam_role_arn: str | None = None
    """IAM role the pods assume through IRSA (annotated on their service account ``model-<name>``),
    e.g. one that reads the model artifacts. Default: none (the service account has no AWS role)."""


class ModelDeployment(Construct):
    """A model server: namespace, Deployment, Service, HPA and optional PDB.

    Outputs: ``namespace``, ``deployment_name``, ``service_name``, ``service_account_name``,
    ``hpa_name``, ``endpoint`` (``http://<svc>.<ns>.svc.cluster.local/api/models/<name>``).
    """

    def __init__(self, scope: Construct, id_: str, props: ModelDeploymentProps):
        super().__init__(scope, id_)
        self._validate(id_, props)
        self.props = props
        name = f"model-{props.model_name}"
        namespace_name, account_name = service_account_of(props.model_name, props.namespace)
        endpoint_path = props.endpoint_path or f"/api/models/{props.model_name}"
        selector = {"app": name}
        labels = {
            "app": name,
            "version": props.model_version,
            "environment": props.environment,
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/managed-by": "terraform",
        }

        self.namespace_resource = self._create_namespace(props, namespace_name)
        namespace = self.namespace_resource.metadata.name
        self.service_account = self._create_service_account(props, account_name, namespace, labels)
        self.deployment = self._deployment(props, name, namespace, labels, selector, endpoint_path)
        self.service = self._create_service(name, namespace, labels, selector)
        self.hpa = self._hpa(props, name, namespace, labels)
        self.pdb = self._create_pdb(name, namespace, labels, selector) if props.pod_disruption_budget else None

        self.namespace: str = namespace_name
        self.deployment_name: str = name
        self.service_name: str = name
        self.service_account_name: str = account_name
        self.hpa_name: str = name
        self.endpoint: str = f"http://{name}.{namespace_name}.svc.cluster.local{endpoint_path}"

    # --- validation ---------------------------------------------------------------------

    @staticmethod
    def _validate(id_: str, p: ModelDeploymentProps) -> None:
        where = f"ModelDeployment {id_}"
        if not _NAME.fullmatch(p.model_name) or len(p.model_name) > 57:
            raise ValidationError(
                f"{where}: model_name must be an RFC 1123 label of at most 57 characters, got {p.model_name!r}"
            )
        if p.namespace is not None and (not _NAME.fullmatch(p.namespace) or len(p.namespace) > 63):
            raise ValidationError(f"{where}: namespace must be an RFC 1123 label, got {p.namespace!r}")
        for field in ("model_version", "environment"):
            value = getattr(p, field)
            if not value or not K8S_LABEL_VALUE.fullmatch(value):
                raise ValidationError(f"{where}: {field} must be a Kubernetes label value, got {value!r}")
        if not p.image or p.image.endswith(":latest") or ("@sha256:" not in p.image and ":" not in p.image.rsplit("/", 1)[-1]):
            raise ValidationError(
                f"{where}: image must be pinned by an immutable tag or a digest, got {p.image!r}"
            )
        check_requests_and_limits(
            where, cpu_request=p.cpu_request, cpu_limit=p.cpu_limit, memory_request=p.memory_request, memory_limit=p.memory_limit
        )
        if p.min_replicas < 1:
            raise ValidationError(f"{where}: min_replicas must be >= 1, got {p.min_replicas!r}")
        if p.min_replicas > p.max_replicas:
            raise ValidationError(
                f"{where}: min_replicas must be <= max_replicas, got min_replicas={p.min_replicas}, "
                f"max_replicas={p.max_replicas}"
            )
        for field in ("cpu_target_percent", "memory_target_percent"):
            if not 1 <= getattr(p, field) <= 100:
                raise ValidationError(f"{where}: {field} must be 1..100, got {getattr(p, field)!r}")
        if not 0 <= p.scale_down_stabilization_seconds <= 3600:
            raise ValidationError(
                f"{where}: scale_down_stabilization_seconds must be 0..3600, got {p.scale_down_stabilization_seconds!r}"
            )
        if p.gpu_enabled and not 1 <= p.gpu_count <= 16:
            raise ValidationError(f"{where}: gpu_count must be 1..16, got {p.gpu_count!r}")
        if p.run_as_user < 1:
            raise ValidationError(f"{where}: run_as_user must be a non-root UID (>= 1), got {p.run_as_user!r}")
        if p.startup_timeout_seconds < 10:
            raise ValidationError(f"{where}: startup_timeout_seconds must be >= 10, got {p.startup_timeout_seconds!r}")
        if p.iam_role_arn is not None:
            check_role_arn(where, "iam_role_arn", p.iam_role_arn)
        for field in ("health_path", "endpoint_path"):
            value = getattr(p, field)
            if value is not None and not value.startswith("/"):
                raise ValidationError(f"{where}: {field} must start with '/', got {value!r}")

    # --- parts --------------------------------------------------------------------------

    def _create_namespace(self, p: ModelDeploymentProps, namespace_name: str):
        return k8s.namespace_v1.NamespaceV1(
            self,
            "namespace",
            metadata=k8s.namespace_v1.NamespaceV1Metadata(
                name=namespace_name,
                labels={
                    "environment": p.environment,
                    # The API server refuses pods that break the restricted profile, so a
                    # later hand edit cannot quietly run the server as root.
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            ),
        )

    def _create_service_account(self, p: ModelDeploymentProps, account_name: str, namespace: str, labels: dict):
        # A service account per model (not "default"), so an IRSA role is trusted for this
        # model's pods only. The EKS pod identity webhook projects the web-identity token
        # itself, so the Kubernetes API token can stay unmounted.
        return k8s.service_account_v1.ServiceAccountV1(
            self,
            "service-account",
            metadata=k8s.service_account_v1.ServiceAccountV1Metadata(
                name=account_name,
                namespace=namespace,
                labels=labels,
                annotations={"eks.amazonaws.com/role-arn": p.iam_role_arn} if p.iam_role_arn else None,
            ),
            automount_service_account_token=False,
        )

    def _create_service(self, name: str, namespace: str, labels: dict, selector: dict):
        return k8s.service_v1.ServiceV1(
            self,
            "service",
            metadata=k8s.service_v1.ServiceV1Metadata(name=name, namespace=namespace, labels=labels),
            spec=k8s.service_v1.ServiceV1Spec(
                type="ClusterIP",
                selector=selector,
                port=[
                    k8s.service_v1.ServiceV1SpecPort(
                        name="http", port=SERVICE_PORT, target_port="http", protocol="TCP"
                    )
                ],
            ),
        )

    def _create_pdb(self, name: str, namespace: str, labels: dict, selector: dict):
        pdb = k8s.pod_disruption_budget_v1
        return pdb.PodDisruptionBudgetV1(
            self,
            "pdb",
            metadata=pdb.PodDisruptionBudgetV1Metadata(name=name, namespace=namespace, labels=labels),
            # max_unavailable rather than min_available: with min_available equal to the
            # HPA's current replicas a node drain could never evict anything.
            spec=pdb.PodDisruptionBudgetV1Spec(
                max_unavailable="1", selector=pdb.PodDisruptionBudgetV1SpecSelector(match_labels=selector)
            ),
        )

    def _deployment(self, p: ModelDeploymentProps, name: str, namespace: str, labels: dict, selector: dict, endpoint_path: str):
        d = k8s.deployment_v1
        node_selector = {"kubernetes.io/os": "linux"}
        tolerations = None
        if p.gpu_enabled:
            node_selector[GPU_NODE_LABEL[0]] = GPU_NODE_LABEL[1]
            tolerations = [d.DeploymentV1SpecTemplateSpecToleration(key=GPU_TAINT_KEY, operator="Exists", effect=GPU_TAINT_EFFECT)]
        return d.DeploymentV1(
            self,
            "deployment",
            metadata=d.DeploymentV1Metadata(name=name, namespace=namespace, labels=labels),
            spec=d.DeploymentV1Spec(
                # No replicas: the HPA owns the count; setting it here would reset the
                # HPA's choice on every apply.
                selector=d.DeploymentV1SpecSelector(match_labels=selector),
                strategy=d.DeploymentV1SpecStrategy(
                    type="RollingUpdate",
                    # Never below the serving capacity during a rollout; one extra pod at a time
                    # (for GPU models, one extra GPU node at most: the capacity check counts it).
                    rolling_update=d.DeploymentV1SpecStrategyRollingUpdate(
                        max_surge=str(ROLLOUT_SURGE_PODS), max_unavailable="0"
                    ),
                ),
                template=d.DeploymentV1SpecTemplate(
                    metadata=d.DeploymentV1SpecTemplateMetadata(labels=labels),
                    spec=d.DeploymentV1SpecTemplateSpec(
                        service_account_name=self.service_account.metadata.name,
                        # Model servers do not call the Kubernetes API: no token in the pod.
                        automount_service_account_token=False,
                        enable_service_links=False,
                        security_context=restricted_pod(p.run_as_user),
                        container=[self._container(p, endpoint_path)],
                        node_selector=node_selector,
                        toleration=tolerations,
                        topology_spread_constraint=[
                            d.DeploymentV1SpecTemplateSpecTopologySpreadConstraint(
                                max_skew=1,
                                topology_key="topology.kubernetes.io/zone",
                                when_unsatisfiable="ScheduleAnyway",
                                label_selector=[d.DeploymentV1SpecTemplateSpecTopologySpreadConstraintLabelSelector(match_labels=selector)],
                            )
                        ],
                        volume=[
                            d.DeploymentV1SpecTemplateSpecVolume(
                                name="tmp",
                                empty_dir=d.DeploymentV1SpecTemplateSpecVolumeEmptyDir(size_limit=p.tmp_size_limit),
                            )
                        ],
                    ),
                ),
            ),
            wait_for_rollout=p.wait_for_rollout,
            # Belt and braces with the omitted replicas: should a default ever be written
            # to state, Terraform still leaves the HPA's count alone.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["spec[0].replicas"]),
        )

    def _container(self, p: ModelDeploymentProps, endpoint_path: str):
        d = k8s.deployment_v1
        requests = {"cpu": p.cpu_request, "memory": p.memory_request}
        limits = {"cpu": p.cpu_limit, "memory": p.memory_limit}
        if p.gpu_enabled:
            # Extended resources cannot be overcommitted: request and limit must be equal.
            requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = str(p.gpu_count)
        period = 10
        probe_get = {"path": p.health_path, "port": "http"}
        return d.DeploymentV1SpecTemplateSpecContainer(
            name="model-server",
            image=p.image,
            image_pull_policy="IfNotPresent",
            port=[d.DeploymentV1SpecTemplateSpecContainerPort(name="http", container_port=CONTAINER_PORT, protocol="TCP")],
            env=[
                d.DeploymentV1SpecTemplateSpecContainerEnv(name="MODEL_NAME", value=p.model_name),
                d.DeploymentV1SpecTemplateSpecContainerEnv(name="MODEL_VERSION", value=p.model_version),
                d.DeploymentV1SpecTemplateSpecContainerEnv(name="MODEL_ENDPOINT", value=endpoint_path),
                d.DeploymentV1SpecTemplateSpecContainerEnv(name="ENVIRONMENT", value=p.environment),
            ],
            resources=d.DeploymentV1SpecTemplateSpecContainerResources(requests=requests, limits=limits),
            # Loading weights takes minutes: the startup probe holds off liveness until the
            # server answers once, so a slow load is not killed in a restart loop.
            startup_probe=d.DeploymentV1SpecTemplateSpecContainerStartupProbe(
                http_get=d.DeploymentV1SpecTemplateSpecContainerStartupProbeHttpGet(**probe_get),
                period_seconds=period,
                timeout_seconds=5,
                failure_threshold=-(-p.startup_timeout_seconds // period),
            ),
            readiness_probe=d.DeploymentV1SpecTemplateSpecContainerReadinessProbe(
                http_get=d.DeploymentV1SpecTemplateSpecContainerReadinessProbeHttpGet(**probe_get),
                period_seconds=period,
                timeout_seconds=5,
                failure_threshold=3,
            ),
            liveness_probe=d.DeploymentV1SpecTemplateSpecContainerLivenessProbe(
                http_get=d.DeploymentV1SpecTemplateSpecContainerLivenessProbeHttpGet(**probe_get),
                period_seconds=15,
                timeout_seconds=5,
                failure_threshold=3,
            ),
            security_context=restricted_container(p.run_as_user),
            volume_mount=[d.DeploymentV1SpecTemplateSpecContainerVolumeMount(name="tmp", mount_path="/tmp")],
        )

    def _hpa(self, p: ModelDeploymentProps, name: str, namespace: str, labels: dict):
        h = k8s.horizontal_pod_autoscaler_v2

        def utilisation(resource: str, percent: int):
            return h.HorizontalPodAutoscalerV2SpecMetric(
                type="Resource",
                resource=h.HorizontalPodAutoscalerV2SpecMetricResource(
                    name=resource,
                    target=h.HorizontalPodAutoscalerV2SpecMetricResourceTarget(type="Utilization", average_utilization=percent),
                ),
            )

        return h.HorizontalPodAutoscalerV2(
            self,
            "hpa",
            metadata=h.HorizontalPodAutoscalerV2Metadata(name=name, namespace=namespace, labels=labels),
            spec=h.HorizontalPodAutoscalerV2Spec(
                min_replicas=p.min_replicas,
                max_replicas=p.max_replicas,
                scale_target_ref=h.HorizontalPodAutoscalerV2SpecScaleTargetRef(
                    api_version="apps/v1", kind="Deployment", name=self.deployment.metadata.name
                ),
                metric=[utilisation("cpu", p.cpu_target_percent), utilisation("memory", p.memory_target_percent)],
                behavior=h.HorizontalPodAutoscalerV2SpecBehavior(
                    scale_down=[
                        h.HorizontalPodAutoscalerV2SpecBehaviorScaleDown(
                            stabilization_window_seconds=p.scale_down_stabilization_seconds,
                            select_policy="Max",
                            # One pod a minute: losing a warm replica costs a model reload.
                            policy=[h.HorizontalPodAutoscalerV2SpecBehaviorScaleDownPolicy(type="Pods", value=1, period_seconds=60)],
                        )
                    ],
                ),
            ),
        )

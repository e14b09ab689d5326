"""``ai-workloads-<env>``: the model deployments on Kubernetes.

A stack of its own because its Kubernetes provider is configured from the cluster
that ``compute-<env>`` creates (a provider cannot depend on a resource of its own
stack), and so that every other stack is free of the kubernetes provider.
"""

from __future__ import annotations

from cdktf import Fn
from constructs import Construct

from constructs_lib.ai.model_deployment import ModelDeployment, ModelDeploymentProps
from constructs_lib.ai.nvidia_device_plugin import NvidiaDevicePlugin
from constructs_lib.compute.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerProps
from constructs_lib.providers import k8s
from sophia_config.sections.models import ModelConfig
from stacks.ai_ml import AiMlStack
from stacks.base import EnvironmentStack, StackContext
from stacks.compute import ComputeStack
from stacks.outputs import export


class AiWorkloadsStack(EnvironmentStack):
    """Exposes ``models`` (model name -> :class:`ModelDeployment`: ``service_name``, ``endpoint``),
    ``cluster_autoscaler`` and ``device_plugin`` (or None)."""

    function = "ai-workloads"

    def __init__(self, scope: Construct, ctx: StackContext, *, compute: ComputeStack, ai_ml: AiMlStack):
        super().__init__(scope, ctx)
        cfg = ctx.config
        self.kubernetes_provider = self._kubernetes_provider(ctx, compute)
        # Grows and shrinks the node groups (the GPU group from zero) for Pending pods; its
        # IRSA role comes from compute, where the cluster's IRSA roles are.
        self.cluster_autoscaler = ClusterAutoscaler(
            self,
            "cluster-autoscaler",
            ClusterAutoscalerProps(
                cluster_name=compute.cluster.cluster_name,
                region=cfg.aws.region,
                kubernetes_version=cfg.eks.kubernetes_version,
                version=cfg.eks.cluster_autoscaler.version,
                role_arn=compute.cluster_autoscaler_role.role_arn,
            ),
        )
        # AL2023 NVIDIA nodes need the device plugin to advertise nvidia.com/gpu; Bottlerocket
        # NVIDIA variants run their own, and a second one would fight over the resource.
        self.device_plugin: NvidiaDevicePlugin | None = None
        if any(m.gpu_enabled for m in cfg.models) and cfg.gpu_nodes.ami_type == "AL2023_x86_64_NVIDIA":
            self.device_plugin = NvidiaDevicePlugin(self, "nvidia-device-plugin")
        self.models: dict[str, ModelDeployment] = {model.name: self._deploy(ctx, model, ai_ml) for model in cfg.models}

        for name, deployment in self.models.items():
            export(
                self,
                deployment,
                prefix=f"model_{name.replace('-', '_')}_",
                service_name=f"Kubernetes Service of model {name}",
                endpoint=f"In-cluster inference endpoint of model {name}",
            )

    def _kubernetes_provider(self, ctx: StackContext, compute: ComputeStack) -> k8s.provider.KubernetesProvider:
        cluster, region = compute.cluster, ctx.config.aws.region
        # Credentials come from the deploying identity at plan/apply time: a short-lived
        # token from `aws eks get-token` (an access entry of the cluster must admit that
        # identity), never a kubeconfig file or a token stored in state.
        return k8s.provider.KubernetesProvider(
            self,
            "kubernetes",
            host=cluster.cluster_endpoint,
            cluster_ca_certificate=Fn.base64decode(cluster.cluster_certificate_authority_data),
            exec=[
                k8s.provider.KubernetesProviderExec(
                    api_version="client.authentication.k8s.io/v1beta1",
                    command="aws",
                    args=["eks", "get-token", "--cluster-name", cluster.cluster_name, "--region", region],
                )
            ],
        )

    def _deploy(self, ctx: StackContext, model: ModelConfig, ai_ml: AiMlStack) -> ModelDeployment:
        res = model.resources
        return ModelDeployment(
            self,
            f"model-{model.name}",
            ModelDeploymentProps(
                model_name=model.name,
                model_version=model.version,
                image=model.image_reference(ai_ml.model_registry.repository_url),
                environment=ctx.env_name,
                cpu_request=res.cpu_request,
                memory_request=res.memory_request,
                cpu_limit=res.cpu_limit,
                memory_limit=res.memory_limit,
                min_replicas=model.min_replicas,
                max_replicas=model.max_replicas,
                cpu_target_percent=model.cpu_target_percent,
                memory_target_percent=model.memory_target_percent,
                gpu_enabled=model.gpu_enabled,
                pod_disruption_budget=model.pod_disruption_budget,
                iam_role_arn=ai_ml.model_roles[model.name].role_arn,
            ),
        )

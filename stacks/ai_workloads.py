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
from stacks.ai_ml import AiMlStack
from stacks.base import EnvironmentStack, StackContext
from stacks.compute import ComputeStack


class AiWorkloadsStack(EnvironmentStack):
    function = "ai-workloads"

    def __init__(self, scope: Construct, ctx: StackContext, *, compute: ComputeStack, ai_ml: AiMlStack):
        super().__init__(scope, ctx)
        cfg = ctx.config
        # Credentials come from the deploying identity at plan/apply time: a short-lived
        # token from `aws eks get-token` (an access entry of the cluster must admit that
        # identity), never a kubeconfig file or a token stored in state.
        self.kubernetes_provider = k8s.provider.KubernetesProvider(
            self,
            "kubernetes",
            host=compute.cluster_endpoint,
            cluster_ca_certificate=Fn.base64decode(compute.cluster_certificate_authority_data),
            exec=[
                k8s.provider.KubernetesProviderExec(
                    api_version="client.authentication.k8s.io/v1beta1",
                    command="aws",
                    args=["eks", "get-token", "--cluster-name", compute.cluster_name, "--region", cfg.aws.region],
                )
            ],
        )

        # Grows and shrinks the node groups (the GPU group from zero) for Pending pods; its
        # IRSA role comes from compute, where the cluster's IRSA roles are.
        self.cluster_autoscaler = ClusterAutoscaler(
            self,
            "cluster-autoscaler",
            ClusterAutoscalerProps(
                cluster_name=compute.cluster_name,
                region=cfg.aws.region,
                kubernetes_version=cfg.eks.kubernetes_version,
                version=cfg.eks.cluster_autoscaler.version,
                role_arn=compute.cluster_autoscaler_role_arn,
            ),
        )

        # AL2023 NVIDIA nodes need the device plugin to advertise nvidia.com/gpu; Bottlerocket
        # NVIDIA variants run their own, and a second one would fight over the resource.
        self.device_plugin: NvidiaDevicePlugin | None = None
        if any(m.gpu_enabled for m in cfg.models) and cfg.gpu_nodes.ami_type == "AL2023_x86_64_NVIDIA":
            self.device_plugin = NvidiaDevicePlugin(self, "nvidia-device-plugin")

        self.models: dict[str, ModelDeployment] = {}
        for model in cfg.models:
            res = model.resources
            self.models[model.name] = ModelDeployment(
                self,
                f"model-{model.name}",
                ModelDeploymentProps(
                    model_name=model.name,
                    model_version=model.version,
                    image=model.image_reference(ai_ml.model_repository_url),
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
                    iam_role_arn=ai_ml.model_role_arns[model.name],
                ),
            )

        self.model_service_names: dict[str, str] = {name: m.service_name for name, m in self.models.items()}
        self.model_endpoints: dict[str, str] = {name: m.endpoint for name, m in self.models.items()}
        for name, deployment in self.models.items():
            key = name.replace("-", "_")
            self.output(f"model_{key}_service_name", deployment.service_name, f"Kubernetes Service of model {name}")
            self.output(f"model_{key}_endpoint", deployment.endpoint, f"In-cluster inference endpoint of model {name}")

"""``ai-ml-<env>``: GPU node group, model registry and vector database."""

from __future__ import annotations

from constructs import Construct

from constructs_lib.ai.gpu_node_group import GpuNodeGroup
from constructs_lib.ai.gpu_node_group_props import GpuNodeGroupProps
from constructs_lib.ai.model_deployment import service_account_of
from constructs_lib.ai.model_registry import ModelRegistry
from constructs_lib.ai.model_registry_props import ModelRegistryProps
from constructs_lib.ai.vector_database import VectorDatabase
from constructs_lib.ai.vector_database_props import VectorDatabaseProps
from constructs_lib.compute.irsa_role import IrsaRole, IrsaRoleProps
from constructs_lib.naming import ResourceKind
from stacks.base import EnvironmentStack, StackContext
from stacks.compute import ComputeStack
from stacks.networking import NetworkingStack
from stacks.outputs import export
from stacks.security import SecurityStack
from stacks.shared import SharedStack


class AiMlStack(EnvironmentStack):
    """Exposes ``model_registry`` (:class:`ModelRegistry`), ``model_roles`` (model name ->
    :class:`IrsaRole`), ``gpu_nodes`` (:class:`GpuNodeGroup`) and ``vector_database``
    (:class:`VectorDatabase`)."""

    function = "ai-ml"

    def __init__(
        self,
        scope: Construct,
        ctx: StackContext,
        *,
        security: SecurityStack,
        networking: NetworkingStack,
        shared: SharedStack,
        compute: ComputeStack,
    ):
        super().__init__(scope, ctx)
        self.model_registry = self._create_model_registry(ctx, security)
        # One IRSA role per model, trusted only by the service account its ModelDeployment
        # creates and allowed to read the artifacts bucket only. Here rather than in
        # ai-workloads: the grant lives with the bucket, and ai-workloads already depends on
        # this stack (the reverse reference would be a cycle).
        self.model_roles: dict[str, IrsaRole] = {
            model.name: self._create_model_role(model.name, compute) for model in ctx.config.models
        }
        self.gpu_nodes = GpuNodeGroup(self, "gpu-nodes", self._gpu_nodes_props(ctx, networking, compute))
        # S3 read on the artifacts bucket only (and its key, via S3), not AmazonS3ReadOnlyAccess.
        self.model_registry.grant_read_artifacts("gpu-nodes", self.gpu_nodes.node_role_name)
        self.vector_database = VectorDatabase(
            self, "vector-db", self._vector_database_props(ctx, security, networking, shared, compute)
        )

        export(
            self,
            self.model_registry,
            prefix="model_",
            repository_url="ECR repository of the model-server images",
            bucket_name="S3 bucket of the model artifacts",
        )
        export(self, self.gpu_nodes, prefix="gpu_", node_group_name="GPU managed node group (model servers)")
        export(self, self.vector_database, prefix="opensearch_", domain_name="OpenSearch domain of the vector database")
        self.output(
            "opensearch_endpoint", self.vector_database.domain_endpoint, "VPC endpoint of the vector database (HTTPS)"
        )

    def _create_model_registry(self, ctx: StackContext, security: SecurityStack) -> ModelRegistry:
        cfg, name = ctx.config, self.naming.name
        return ModelRegistry(
            self,
            "model-registry",
            ModelRegistryProps(
                repository_name=name("ai", "models", kind=ResourceKind.ECR_REPOSITORY),
                # The account id keeps the globally unique bucket name unique per account.
                bucket_name=name("ai", "model-artifacts", suffix=cfg.aws.account_id, kind=ResourceKind.S3_BUCKET),
                kms_key_arn=security.kms_key_arn("data"),
                # Model image tags are "<model>-<version>" (models[].image); the trailing '-'
                # keeps one model's prefix from matching another's tags.
                release_tag_prefixes=tuple(f"{model.name}-" for model in cfg.models),
                retention=cfg.model_registry,
                force_delete=cfg.storage.force_destroy_buckets,
            ),
        )

    def _create_model_role(self, model_name: str, compute: ComputeStack) -> IrsaRole:
        namespace, account = service_account_of(model_name)
        role = IrsaRole(
            self,
            f"model-role-{model_name}",
            IrsaRoleProps(
                role_name=self.naming.name("ai", f"{model_name}-model", kind=ResourceKind.IAM_ROLE),
                oidc_provider_arn=compute.cluster.oidc_provider_arn,
                oidc_provider_url=compute.cluster.oidc_provider_url,
                namespace=namespace,
                service_account=account,
            ),
        )
        self.model_registry.grant_read_artifacts(f"model-{model_name}", role.role_name)
        return role

    def _gpu_nodes_props(
        self, ctx: StackContext, networking: NetworkingStack, compute: ComputeStack
    ) -> GpuNodeGroupProps:
        gpu, name = ctx.config.gpu_nodes, self.naming.name
        return GpuNodeGroupProps(
            cluster=compute.cluster,
            node_group_name=name("ai", "gpu-ng", kind=ResourceKind.EKS_NODE_GROUP),
            node_role_name=name("ai", "gpu-node-role", kind=ResourceKind.IAM_ROLE),
            subnet_ids=networking.network.private_subnet_ids,
            instance_types=tuple(gpu.instance_types),
            capacity_type=gpu.capacity_type,
            ami_type=gpu.ami_type,
            min_size=gpu.min_size,
            max_size=gpu.max_size,
            desired_size=gpu.desired_size,
            gpus_per_instance=gpu.gpus_per_node,
            root_volume=gpu.root_volume,
            instance_tags={**ctx.default_tags, "Component": "ai"},
        )

    def _vector_database_props(
        self,
        ctx: StackContext,
        security: SecurityStack,
        networking: NetworkingStack,
        shared: SharedStack,
        compute: ComputeStack,
    ) -> VectorDatabaseProps:
        vdb = ctx.config.vector_db
        return VectorDatabaseProps(
            domain_name=self.naming.name("ai", "vectors", kind=ResourceKind.OPENSEARCH_DOMAIN),
            vpc_id=networking.network.vpc_id,
            subnet_ids=tuple(networking.network.private_subnet_ids),
            allowed_security_group_ids=(compute.cluster.node_security_group_id,),
            kms_key_arn=security.kms_key_arn("data"),
            log_kms_key_arn=security.kms_key_arn("logs"),
            log_retention_days=ctx.config.logging.retention_days,
            alarm_topic_arn=shared.alarm_topic.topic_arn,
            engine_version=vdb.engine_version,
            instance_type=vdb.instance_type,
            instance_count=vdb.instance_count,
            volume_size_gb=vdb.volume_size_gb,
            volume_iops=vdb.volume_iops,
            volume_throughput=vdb.volume_throughput,
            availability_zones=vdb.availability_zones,
            dedicated_master_count=vdb.dedicated_master_count,
            dedicated_master_type=vdb.dedicated_master_type,
            automated_snapshot_start_hour=vdb.automated_snapshot_start_hour,
        )

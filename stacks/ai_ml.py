"""``ai-ml-<env>``: GPU node group, model registry and vector database."""

from __future__ import annotations

from constructs import Construct

from constructs_lib.ai.gpu_node_group import GpuNodeGroup, GpuNodeGroupProps
from constructs_lib.ai.model_deployment import service_account_of
from constructs_lib.ai.model_registry import ModelRegistry, ModelRegistryProps
from constructs_lib.ai.vector_database import VectorDatabase, VectorDatabaseProps
from constructs_lib.compute.irsa_role import IrsaRole, IrsaRoleProps
from constructs_lib.naming import ResourceKind
from stacks.base import EnvironmentStack, StackContext
from stacks.compute import ComputeStack
from stacks.networking import NetworkingStack
from stacks.security import SecurityStack
from stacks.shared import SharedStack


class AiMlStack(EnvironmentStack):
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
        cfg = ctx.config
        name = self.naming.name

        self.model_registry = ModelRegistry(
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
        self.model_repository_url: str = self.model_registry.repository_url
        self.model_repository_arn: str = self.model_registry.repository_arn
        self.model_bucket_name: str = self.model_registry.bucket_name
        self.model_bucket_arn: str = self.model_registry.bucket_arn
        self.output("model_repository_url", self.model_repository_url, "ECR repository of the model-server images")
        self.output("model_bucket_name", self.model_bucket_name, "S3 bucket of the model artifacts")

        # One IRSA role per model, trusted only by the service account its ModelDeployment
        # creates and allowed to read the artifacts bucket only. Here rather than in
        # ai-workloads: the grant lives with the bucket, and ai-workloads already depends on
        # this stack (the reverse reference would be a cycle).
        self.model_roles: dict[str, IrsaRole] = {}
        for model in cfg.models:
            namespace, account = service_account_of(model.name)
            role = IrsaRole(
                self,
                f"model-role-{model.name}",
                IrsaRoleProps(
                    role_name=name("ai", f"{model.name}-model", kind=ResourceKind.IAM_ROLE),
                    oidc_provider_arn=compute.oidc_provider_arn,
                    oidc_provider_url=compute.oidc_provider_url,
                    namespace=namespace,
                    service_account=account,
                ),
            )
            self.model_registry.grant_read_artifacts(f"model-{model.name}", role.role_name)
            self.model_roles[model.name] = role
        self.model_role_arns: dict[str, str] = {n: r.role_arn for n, r in self.model_roles.items()}

        gpu = cfg.gpu_nodes
        self.gpu_nodes = GpuNodeGroup(
            self,
            "gpu-nodes",
            GpuNodeGroupProps(
                cluster=compute.cluster,
                node_group_name=name("ai", "gpu-ng", kind=ResourceKind.EKS_NODE_GROUP),
                node_role_name=name("ai", "gpu-node-role", kind=ResourceKind.IAM_ROLE),
                subnet_ids=networking.private_subnet_ids,
                instance_types=tuple(gpu.instance_types),
                capacity_type=gpu.capacity_type,
                ami_type=gpu.ami_type,
                min_size=gpu.min_size,
                max_size=gpu.max_size,
                desired_size=gpu.desired_size,
                gpus_per_instance=gpu.gpus_per_node,
                root_volume=gpu.root_volume,
                instance_tags={**ctx.default_tags, "Component": "ai"},
            ),
        )
        # S3 read on the artifacts bucket only (and its key, via S3), not AmazonS3ReadOnlyAccess.
        self.model_registry.grant_read_artifacts("gpu-nodes", self.gpu_nodes.node_role_name)
        self.gpu_node_group_name: str = self.gpu_nodes.node_group_name
        self.output("gpu_node_group_name", self.gpu_node_group_name, "GPU managed node group (model servers)")

        vdb = cfg.vector_db
        self.vector_database = VectorDatabase(
            self,
            "vector-db",
            VectorDatabaseProps(
                domain_name=name("ai", "vectors", kind=ResourceKind.OPENSEARCH_DOMAIN),
                vpc_id=networking.vpc_id,
                subnet_ids=tuple(networking.private_subnet_ids),
                allowed_security_group_ids=(compute.node_security_group_id,),
                kms_key_arn=security.kms_key_arn("data"),
                log_kms_key_arn=security.kms_key_arn("logs"),
                log_retention_days=cfg.logging.retention_days,
                alarm_topic_arn=shared.alarm_topic_arn,
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
            ),
        )
        self.opensearch_domain_name: str = self.vector_database.domain_name
        self.opensearch_domain_arn: str = self.vector_database.domain_arn
        self.opensearch_endpoint: str = self.vector_database.domain_endpoint
        self.output("opensearch_domain_name", self.opensearch_domain_name, "OpenSearch domain of the vector database")
        self.output("opensearch_endpoint", self.opensearch_endpoint, "VPC endpoint of the vector database (HTTPS)")

"""Every emulator-only adjustment, each with the moto limitation it works around.

This file is the only place where a deployment to the emulator differs from a
deployment to AWS. The product's output (``cdktf.out/``) never changes: an
emulator run synthesizes into its own directory (``build/<run>/cdktf.out``) and
:mod:`sophia_infra.emulator.overrides` turns these entries into one
``emulator_override.tf.json`` per stack there, which Terraform merges over the
synthesized ``cdk.tf.json``.

Add an entry only for a named limitation of moto (5.2.5, ``tools/e2e-requirements.lock``),
never to make a stack pass that would fail on AWS. Each entry is printed, with its
reason, in the summary of ``make local-up`` and ``make e2e``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Exclude:
    """Resources of ``resource_type`` are left out (``count = 0``) of the emulator deployment.

    Whatever references an excluded resource is left out with it (named in the summary).
    """

    resource_type: str
    limitation: str
    # Stacks (full names) the entry applies to; empty: every stack.
    stacks: tuple[str, ...] = ()
    # fnmatch patterns of the resource names (the part after the type) it applies to.
    names: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class IgnoreChanges:
    """``lifecycle.ignore_changes`` for attributes moto does not store (a perpetual diff otherwise)."""

    resource_type: str
    attributes: tuple[str, ...]
    limitation: str


@dataclass(frozen=True)
class Adjust:
    """Arguments of ``resource_type`` replaced on the emulator."""

    resource_type: str
    settings: dict[str, Any]
    limitation: str


@dataclass(frozen=True)
class ProviderSettings:
    """aws provider arguments set on the emulator in stacks that read ``data_source`` (in a ``check``, too)."""

    data_source: str
    settings: dict[str, Any]
    limitation: str


@dataclass(frozen=True)
class SkipStack:
    """A function stack (``<function>-<env>``) that is not deployed to the emulator at all."""

    function: str
    limitation: str


LIMITS: tuple[Exclude | IgnoreChanges | Adjust | ProviderSettings | SkipStack, ...] = (
    Exclude(
        "aws_s3_bucket_policy",
        "moto evaluates bucket-policy conditions without the request's context, so the "
        "TLS-only Deny (aws:SecureTransport) answers 403 to every object request, including "
        "the S3 backend's reads and writes of state",
        stacks=("state-bootstrap",),
    ),
    IgnoreChanges(
        "aws_kms_key",
        ("rotation_period_in_days",),
        "moto does not store a key's rotation period and reads it back as 0",
    ),
    IgnoreChanges(
        "aws_db_instance",
        ("performance_insights_enabled", "performance_insights_kms_key_id", "performance_insights_retention_period"),
        "moto's RDS drops Performance Insights settings",
    ),
    Exclude(
        "aws_db_instance",
        "moto gives every RDS instance the same DbiResourceId (db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U) and "
        "the aws provider finds an instance by it, so with two instances neither is found; the "
        "standby colour of dev's blue/green pair (config/dev.yaml blue_green.active: blue) is left out",
        stacks=("data-dev",),
        names=("postgres_green_*",),
    ),
    IgnoreChanges(
        "aws_db_parameter_group",
        ("parameter",),
        "moto's RDS loses each parameter's Source, so the parameters always differ",
    ),
    IgnoreChanges(
        "aws_eks_cluster",
        ("access_config", "upgrade_policy"),
        "moto's EKS does not store a cluster's access configuration or upgrade policy; read back "
        "empty, access_config.bootstrap_cluster_creator_admin_permissions forces a replacement",
    ),
    IgnoreChanges(
        "aws_eks_node_group",
        ("remote_access",),
        "moto's EKS gives every node group an SSH key (remote_access.ec2_ssh_key = \"eksKeypair\") "
        "that was never asked for, which forces a replacement",
    ),
    IgnoreChanges(
        "aws_eks_node_group",
        ("update_config",),
        "moto's EKS does not store a node group's update_config, and the in-place update that "
        "would follow waits on DescribeUpdate, which moto does not implement",
    ),
    IgnoreChanges(
        "aws_launch_template",
        ("vpc_security_group_ids",),
        "moto's EKS cluster reports no cluster security group (vpc_config.cluster_security_group_id), "
        "so the nodes' launch template lists a null that EC2 drops, a perpetual diff",
    ),
    IgnoreChanges(
        "aws_launch_template",
        ("tag_specifications",),
        "moto's EC2 returns the launch template's own tags as one more tag specification "
        "(resource_type launch-template), a perpetual diff",
    ),
    IgnoreChanges(
        "aws_vpc_security_group_ingress_rule",
        ("description",),
        "moto's EC2 does not store a security group rule's description",
    ),
    IgnoreChanges(
        "aws_cloudwatch_log_group",
        ("log_group_class",),
        "moto's CloudWatch Logs does not store a log group's class; read back empty, "
        "log_group_class = STANDARD forces a replacement",
    ),
    Exclude("aws_eks_addon", "moto implements no EKS add-on API (CreateAddon answers 404)"),
    Exclude("aws_eks_access_entry", "moto implements no EKS access-entry API (CreateAccessEntry answers 404)"),
    Exclude("aws_eks_access_policy_association", "moto implements no EKS access-entry API (AssociateAccessPolicy)"),
    Exclude(
        "aws_autoscaling_group_tag",
        "moto's EKS node groups start no Auto Scaling group: the group a node group reports does "
        "not exist, and tagging it retries until the create timeout",
    ),
    Adjust(
        "aws_opensearch_domain",
        {"timeouts": {"create": "30s", "update": "30s", "delete": "1m"}},
        "the aws provider first looks at an OpenSearch domain 10 minutes after creating or deleting "
        "it (1 minute after an update) unless the timeout is shorter; moto's domain is ready (or "
        "gone) at once, and the provider's check at the timeout finds it so",
    ),
    Exclude(
        "aws_vpc_security_group_ingress_rule",
        "moto's EKS cluster reports no cluster security group, so the runners' rule into it "
        "names the group '' (InvalidGroup.NotFound)",
        stacks=("ci-dev",),
        names=("runner_https-to-cluster-api_*",),
    ),
    IgnoreChanges(
        "aws_codebuild_project",
        ("concurrent_build_limit", "encryption_key"),
        "moto's CodeBuild does not store a project's concurrent build limit or KMS key (reads back "
        "0 and the aws/s3 alias), and implements no UpdateProject to correct them",
    ),
    Exclude(
        "aws_codebuild_webhook",
        "moto implements no CodeBuild webhooks (CreateWebhook answers 500 NotImplementedError), "
        "which the provider retries until its timeout",
    ),
    Exclude(
        "aws_cloudwatch_query_definition",
        "moto implements no CloudWatch Logs Insights query definitions (PutQueryDefinition answers "
        "500 NotImplementedError), which the provider retries for minutes",
    ),
    ProviderSettings(
        "aws_servicequotas_service_quota",
        {"max_retries": 3},
        "moto does not implement Service Quotas' GetAWSDefaultServiceQuota and answers 500, which "
        "the provider retries for over ten minutes (25 attempts); with 3 the quota check's read fails "
        "within seconds and, being a check block, only warns. Not 1: every call of the stack's "
        "provider then gets one attempt, and a connection moto's server closed fails the apply",
    ),
    SkipStack(
        "ai-workloads",
        "its resources are Kubernetes objects: moto's EKS cluster has no Kubernetes API server to create them in",
    ),
)

"""What the review knows about AWS resource types and attributes.

Plain tables, read by the diff (``FORCE_NEW``, through :func:`diff.forces_new` only)
and by the risk rules (everything else). A fact that the library's guards also need
(what counts as public address space, what a broad managed policy is) belongs in one
shared module of the library; until then it is written here once for the review.
"""

from __future__ import annotations

import re

STATEFUL_TYPES = frozenset(
    {
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_rds_global_cluster",
        "aws_s3_bucket",
        "aws_dynamodb_table",
        "aws_opensearch_domain",
        "aws_elasticsearch_domain",
        "aws_eks_cluster",
        "aws_kms_key",
        "aws_efs_file_system",
        "aws_elasticache_replication_group",
        "aws_elasticache_cluster",
        "aws_ecr_repository",
        "aws_secretsmanager_secret",
        "aws_ebs_volume",
        "aws_backup_vault",
    }
)
"""Resource types whose destruction loses data (or, for keys, the data they encrypt)."""

FORCE_NEW: dict[str, frozenset[str]] = {
    # Attributes whose change makes Terraform destroy and re-create the resource
    # (ForceNew in the hashicorp/aws provider schema). Nested attributes are dotted.
    "aws_db_instance": frozenset(
        {"identifier", "identifier_prefix", "engine", "kms_key_id", "storage_encrypted", "username", "character_set_name", "availability_zone", "snapshot_identifier"}
    ),
    "aws_rds_cluster": frozenset(
        {"cluster_identifier", "cluster_identifier_prefix", "engine", "kms_key_id", "storage_encrypted", "database_name", "master_username", "availability_zones"}
    ),
    "aws_rds_cluster_instance": frozenset({"identifier", "cluster_identifier", "engine"}),
    "aws_s3_bucket": frozenset({"bucket", "bucket_prefix", "object_lock_enabled"}),
    "aws_dynamodb_table": frozenset({"name", "hash_key", "range_key"}),
    "aws_opensearch_domain": frozenset({"domain_name"}),
    "aws_elasticsearch_domain": frozenset({"domain_name"}),
    "aws_eks_cluster": frozenset({"name", "vpc_config.subnet_ids", "encryption_config.provider.key_arn", "kubernetes_network_config.service_ipv4_cidr"}),
    "aws_eks_node_group": frozenset({"cluster_name", "node_group_name", "subnet_ids", "ami_type", "capacity_type", "disk_size", "instance_types", "node_role_arn"}),
    "aws_kms_key": frozenset({"customer_master_key_spec", "key_usage", "multi_region", "xks_key_id", "custom_key_store_id"}),
    "aws_efs_file_system": frozenset({"creation_token", "encrypted", "kms_key_id", "performance_mode"}),
    "aws_elasticache_replication_group": frozenset({"replication_group_id", "at_rest_encryption_enabled", "kms_key_id", "subnet_group_name"}),
    "aws_elasticache_cluster": frozenset({"cluster_id", "engine", "subnet_group_name"}),
    "aws_ecr_repository": frozenset({"name"}),
    "aws_secretsmanager_secret": frozenset({"name", "name_prefix"}),
    "aws_ebs_volume": frozenset({"availability_zone", "encrypted", "kms_key_id", "snapshot_id"}),
    "aws_backup_vault": frozenset({"name", "kms_key_arn"}),
    "aws_sqs_queue": frozenset({"name", "fifo_queue"}),
    "aws_cloudwatch_log_group": frozenset({"name", "name_prefix"}),
    "aws_vpc": frozenset({"cidr_block", "instance_tenancy"}),
    "aws_subnet": frozenset({"vpc_id", "cidr_block", "availability_zone", "availability_zone_id"}),
    "aws_security_group": frozenset({"name", "name_prefix", "vpc_id", "description"}),
    "aws_iam_role": frozenset({"name", "name_prefix", "path"}),
}

PROTECTION_FLAGS = frozenset(
    {"deletion_protection", "deletion_protection_enabled", "enable_deletion_protection", "prevent_destroy", "termination_protection", "disable_api_termination"}
)
"""Attributes that protect a resource while true."""

DESTRUCTIVE_FLAGS = frozenset({"force_destroy", "skip_final_snapshot"})
"""Attributes that make destruction easier (or lose the last snapshot) while true."""

ENCRYPTION_RESOURCE_TYPES = frozenset(
    {"aws_s3_bucket_server_side_encryption_configuration", "aws_ebs_encryption_by_default"}
)
ENCRYPTION_WORDS = ("encrypt", "kms", "sse", "tls", "https")
"""Words in an attribute path that make it an encryption setting."""
OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
"""Public address space (the guards keep their own copy: to be one library module)."""
BROAD_MANAGED_POLICY = re.compile(r"(AdministratorAccess|PowerUserAccess|FullAccess)$")
"""AWS managed policies too broad to attach without a reviewer's attention."""
POLICY_ATTACHMENT_TYPES = frozenset(
    {"aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment", "aws_iam_policy_attachment"}
)

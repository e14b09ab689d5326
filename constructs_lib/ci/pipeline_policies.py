"""What the pipeline's roles may do in an environment account: the statements of the
deploy role, the plan (drift) role and the cluster-admin role of the account baseline.

Values, not constructs: :class:`~constructs_lib.ci.github_actions_role.GithubActionsRole`
and :class:`~constructs_lib.security.iam_role.IamRole` take them as inline policies.

* **deploy** (``terraform apply`` of every function stack): the services the stacks
  manage, IAM only on the project's own roles, policies and the clusters' OIDC
  providers, the project's secrets (and the RDS-managed ones RDS creates with the
  caller's rights), the account's GitHub connections (the runner's project passes one);
  plus a ``Deny`` that keeps it off the account
  baseline it was given by (its own role and the other baseline roles, the GitHub OIDC
  provider, the audit trail's bucket, log group and key). CloudTrail is not granted at all.
  It deploys no baseline: an account administrator does (docs/deployment.md).
* **plan** (pull requests, the drift job): AWS's ``ReadOnlyAccess``, minus the reads of
  data (objects, items, log events, image layers), plus the project's secrets, which a
  plan opens (the data stack reads the database master password as an ephemeral value).
* **cluster admin**: find the project's clusters; what it may do inside them is the
  EKS access entry's business (``AmazonEKSClusterAdminPolicy``).

Both pipeline roles may assume the environment's role in the state account, and nothing
else there.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.security.policy import Condition, Statement

READ_ONLY_POLICY = "ReadOnlyAccess"
"""AWS managed policy both pipeline roles start from (``arn:<partition>:iam::aws:policy/ReadOnlyAccess``)."""

DEPLOYED_SERVICES = (
    "autoscaling:CreateOrUpdateTags",
    "autoscaling:DeleteTags",
    "cloudwatch:*",
    "codebuild:*",
    "config:*",
    "ec2:*",
    "ecr:*",
    "eks:*",
    "es:*",
    "kms:*",
    "logs:*",
    "rds:*",
    "s3:*",
    "sns:*",
)
"""The API namespaces of the resources the function stacks manage (the ``aws_*`` types of
``cdktf.out``): a stack that starts using another service adds it here, and an account
administrator redeploys the baseline."""

SERVICE_LINKED_ROLES = (
    "autoscaling.amazonaws.com",
    "eks.amazonaws.com",
    "eks-nodegroup.amazonaws.com",
    "opensearchservice.amazonaws.com",
    "rds.amazonaws.com",
    "spot.amazonaws.com",
)
"""Services whose service-linked role a first deployment creates (EKS, managed node groups
and their Auto Scaling groups, spot capacity, RDS, OpenSearch)."""

_IAM_WRITE = (
    "iam:AddRoleToInstanceProfile",
    "iam:AttachRolePolicy",
    "iam:CreateInstanceProfile",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:CreateRole",
    "iam:DeleteInstanceProfile",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PassRole",
    "iam:PutRolePolicy",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:SetDefaultPolicyVersion",
    "iam:TagInstanceProfile",
    "iam:TagPolicy",
    "iam:TagRole",
    "iam:UntagInstanceProfile",
    "iam:UntagPolicy",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)

_OIDC_PROVIDER_WRITE = (
    "iam:AddClientIDToOpenIDConnectProvider",
    "iam:CreateOpenIDConnectProvider",
    "iam:DeleteOpenIDConnectProvider",
    "iam:RemoveClientIDFromOpenIDConnectProvider",
    "iam:TagOpenIDConnectProvider",
    "iam:UntagOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint",
)

_AUDIT_TRAIL_WRITES = (
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:UpdateAlias",
    "logs:AssociateKmsKey",
    "logs:DeleteLogGroup",
    "logs:DeleteLogStream",
    "logs:DeleteRetentionPolicy",
    "logs:DisassociateKmsKey",
    "logs:PutRetentionPolicy",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutObject",
)
"""What would switch off or rewrite the audit trail: its key, its log group, its bucket and files."""

DATA_READS = (
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:StartQuery",
    "s3:GetObject",
    "s3:GetObjectVersion",
)
"""What ``ReadOnlyAccess`` allows that no plan needs: reading the data itself."""


@dataclass(frozen=True)
class AccountScope:
    """Where the statements apply."""

    partition: str
    region: str
    account_id: str
    project: str
    """The project name: the prefix of every role, policy and secret the stacks own."""
    environment: str


@dataclass(frozen=True)
class Baseline:
    """What the deploy role must not touch: the baseline that defines it."""

    role_arns: tuple[str, ...]
    """The baseline's roles (deploy, plan, cluster admin, trail delivery)."""
    oidc_provider_arn: str
    trail_bucket_arn: str
    trail_log_group_arn: str
    trail_key_arn: str


def assume_state_role(state_role_arn: str) -> Statement:
    """Reach the state: assume the environment's role in the state account."""
    return Statement(sid="AssumeStateRole", actions=("sts:AssumeRole",), resources=(state_role_arn,))


def project_secrets(scope: AccountScope) -> tuple[Statement, ...]:
    """Read the environment's secrets (``<project>/<env>/...``), as the data stack does, and
    decrypt them: Secrets Manager calls KMS with the caller's rights, and the environment's
    ``secrets`` key leaves its use to IAM."""
    return (
        Statement(
            sid="ProjectSecrets",
            actions=("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"),
            resources=(
                f"arn:{scope.partition}:secretsmanager:{scope.region}:{scope.account_id}:secret:{scope.project}/{scope.environment}/*",
            ),
        ),
        Statement(
            sid="ProjectSecretsKey",
            actions=("kms:Decrypt",),
            resources=(f"arn:{scope.partition}:kms:{scope.region}:{scope.account_id}:key/*",),
            conditions=(Condition("StringEquals", "kms:ViaService", (f"secretsmanager.{scope.region}.amazonaws.com",)),),
        ),
    )


def deploy_statements(scope: AccountScope, state_role_arn: str, baseline: Baseline) -> tuple[Statement, ...]:
    """The deploy role's inline policy (besides ``ReadOnlyAccess``): what the stacks manage,
    then a ``Deny`` of the baseline that defines the role."""
    return (
        assume_state_role(state_role_arn),
        *_deployed_resources(scope),
        *project_secrets(scope),
        *protect_baseline(baseline),
    )


def _deployed_resources(scope: AccountScope) -> tuple[Statement, ...]:
    """The services the function stacks manage, IAM on the project's own names, and the
    service-side identities a deployment creates or passes."""
    iam = f"arn:{scope.partition}:iam::{scope.account_id}"
    return (
        Statement(sid="DeployedServices", actions=DEPLOYED_SERVICES, resources=("*",)),
        Statement(
            sid="ProjectIam",
            actions=_IAM_WRITE,
            resources=(
                f"{iam}:role/{scope.project}-*",
                f"{iam}:policy/{scope.project}-*",
                f"{iam}:instance-profile/{scope.project}-*",
            ),
        ),
        Statement(
            sid="ClusterOidcProviders",
            actions=_OIDC_PROVIDER_WRITE,
            resources=(f"{iam}:oidc-provider/oidc.eks.{scope.region}.amazonaws.com/*",),
        ),
        # RDS-managed master passwords: RDS creates the secret with the caller's rights
        # (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html).
        Statement(
            sid="RdsManagedSecrets",
            actions=("secretsmanager:CreateSecret", "secretsmanager:TagResource"),
            resources=(f"arn:{scope.partition}:secretsmanager:{scope.region}:{scope.account_id}:secret:rds!*",),
        ),
        # The in-VPC runner's CodeBuild project uses the environment's GitHub connection.
        Statement(
            sid="RunnerConnection",
            actions=tuple(
                f"{service}:{action}"
                for service in ("codeconnections", "codestar-connections")
                for action in ("GetConnection", "PassConnection", "UseConnection")
            ),
            resources=tuple(
                f"arn:{scope.partition}:{service}:{scope.region}:{scope.account_id}:connection/*"
                for service in ("codeconnections", "codestar-connections")
            ),
        ),
        Statement(
            sid="ServiceLinkedRoles",
            actions=("iam:CreateServiceLinkedRole",),
            resources=(f"{iam}:role/aws-service-role/*",),
            conditions=(Condition("StringEquals", "iam:AWSServiceName", SERVICE_LINKED_ROLES),),
        ),
    )


def protect_baseline(baseline: Baseline) -> tuple[Statement, ...]:
    """An explicit Deny wins over every Allow: the pipeline cannot widen its own trust or
    permissions, nor switch off or rewrite the audit trail."""
    return (
        Statement(
            sid="ProtectBaselineIdentities",
            effect="Deny",
            actions=(*_IAM_WRITE, *_OIDC_PROVIDER_WRITE),
            resources=(*baseline.role_arns, baseline.oidc_provider_arn),
        ),
        Statement(
            sid="ProtectAuditTrail",
            effect="Deny",
            actions=_AUDIT_TRAIL_WRITES,
            resources=(
                baseline.trail_key_arn,
                baseline.trail_log_group_arn,
                f"{baseline.trail_log_group_arn}:*",
                baseline.trail_bucket_arn,
                f"{baseline.trail_bucket_arn}/*",
            ),
        ),
    )


def plan_statements(scope: AccountScope, state_role_arn: str) -> tuple[Statement, ...]:
    """The plan role's inline policy (besides ``ReadOnlyAccess``)."""
    return (
        assume_state_role(state_role_arn),
        *project_secrets(scope),
        Statement(sid="NoDataReads", effect="Deny", actions=DATA_READS, resources=("*",)),
    )


def cluster_admin_statements(scope: AccountScope) -> tuple[Statement, ...]:
    """Find the project's clusters (``aws eks update-kubeconfig``); Kubernetes rights come from the access entry."""
    return (
        Statement(
            sid="FindClusters",
            actions=("eks:DescribeCluster",),
            resources=(f"arn:{scope.partition}:eks:{scope.region}:{scope.account_id}:cluster/{scope.project}-*",),
        ),
        Statement(sid="ListClusters", actions=("eks:ListClusters",), resources=("*",)),
    )


"""``baseline-<env>``: the identities and the audit trail of the environment's account.

Deployed right after ``state-bootstrap``, by an account administrator and never by the
pipeline (``sophia_infra.deploy`` leaves it out): it defines the roles the pipeline
runs as. What each role may assume it as (OIDC ``sub`` claims, for
``repo:<owner>/<name>`` = ``config/project.yaml`` ``github.repository``):

=============== ======================================= ==================================================
role            trusted                                 who
=============== ======================================= ==================================================
deploy          ``repo:<o>/<n>:environment:<env>``      the deploy job, in the GitHub environment ``<env>``
                                                        (its reviewers approve it)
plan            ``repo:<o>/<n>:environment:<env>-drift`` the scheduled drift job (environment ``<env>-drift``)
                ``repo:<o>/<n>:pull_request``           pull-request jobs, where ``baseline.pull_request_plans``
cluster admin   this account's IAM (its root)           people, through the account's own IAM / SSO
=============== ======================================= ==================================================

The compute stack reads the three ARNs from here (cross-stack references): each ARN
has one home, and the cluster's access entries wait for the roles they name.
"""

from __future__ import annotations

from constructs import Construct

from constructs_lib.audit.cloudtrail_trail import CloudTrailTrail, CloudTrailTrailProps
from constructs_lib.ci import pipeline_policies as policies
from constructs_lib.ci.github import GITHUB_OIDC_HOST
from constructs_lib.ci.github_actions_role import GithubActionsRole, GithubActionsRoleProps
from constructs_lib.ci.github_oidc_provider import GithubOidcProvider, GithubOidcProviderProps
from constructs_lib.naming import ResourceKind
from constructs_lib.providers import aws
from constructs_lib.security.iam_role import IamRole, IamRoleProps, InlinePolicy
from constructs_lib.security.policy import Principal
from stacks.base import EnvironmentStack, StackContext
from stacks.outputs import export


class BaselineStack(EnvironmentStack):
    """Exposes ``deploy_role`` and ``plan_role`` (:class:`GithubActionsRole`), ``cluster_admin_role``
    (:class:`IamRole`), ``oidc_provider`` and ``trail``; the compute stack reads the roles' ``role_arn``."""

    function = "baseline"

    def __init__(self, scope: Construct, ctx: StackContext):
        super().__init__(scope, ctx)
        cfg, env = ctx.config, ctx.env_name
        partition = aws.data_aws_partition.DataAwsPartition(self, "partition").partition
        account = policies.AccountScope(
            partition=partition,
            region=cfg.aws.region,
            account_id=cfg.aws.account_id,
            project=ctx.project.name,
            environment=env,
        )
        role_names = {
            kind: self.naming.name("baseline", f"{kind}-role", kind=ResourceKind.IAM_ROLE)
            for kind in ("deploy", "plan", "cluster-admin")
        }

        self.trail = self._create_trail(ctx)
        self.oidc_provider = GithubOidcProvider(
            self, "github-oidc", GithubOidcProviderProps(create=cfg.baseline.github_oidc_provider)
        )
        self.deploy_role = self._create_deploy_role(ctx, account, role_names)
        self.plan_role = self._create_plan_role(ctx, account, role_names["plan"])
        self.cluster_admin_role = self._create_cluster_admin_role(ctx, account, role_names["cluster-admin"])

        self._outputs(env)

    def _outputs(self, env: str) -> None:
        # The pipeline's roles: variables of the GitHub environments their jobs run in.
        deploy_variable = f"GitHub environment {env}: variable AWS_DEPLOY_ROLE_ARN"
        plan_variable = f"GitHub environment {env}-drift: variable AWS_DRIFT_ROLE_ARN"
        export(self, self.deploy_role, prefix="deploy_", role_arn=deploy_variable)
        export(self, self.plan_role, prefix="plan_", role_arn=plan_variable)
        export(
            self, self.cluster_admin_role, prefix="cluster_admin_", role_arn="Cluster administrators assume it (kubectl)"
        )
        export(
            self, self.oidc_provider, prefix="github_oidc_", provider_arn="IAM OIDC provider for GitHub Actions tokens"
        )
        export(self, self.trail, trail_arn="Multi-region CloudTrail trail of the account")
        export(
            self,
            self.trail,
            prefix="trail_",
            bucket_name="S3 bucket of the trail's log files",
            log_group_name="CloudWatch Logs copy of the trail",
        )

    def _create_trail(self, ctx: StackContext) -> CloudTrailTrail:
        cfg, name = ctx.config, self.naming.name
        return CloudTrailTrail(
            self,
            "trail",
            CloudTrailTrailProps(
                trail_name=name("audit", "trail"),
                bucket_name=name("audit", "trail", suffix=cfg.aws.account_id, kind=ResourceKind.S3_BUCKET),
                kms_alias=self.naming.alias("audit", "trail"),
                log_group_name=f"/aws/cloudtrail/{name('audit', 'trail')}",
                log_retention_days=cfg.logging.retention_days,
                delivery_role_name=name("audit", "trail-delivery-role", kind=ResourceKind.IAM_ROLE),
                region=cfg.aws.region,
                archive_days=cfg.baseline.trail_archive_days,
                expiration_days=cfg.baseline.trail_expiration_days,
                force_destroy=cfg.storage.force_destroy_buckets,
            ),
        )

    def _create_deploy_role(
        self, ctx: StackContext, account: policies.AccountScope, role_names: dict[str, str]
    ) -> GithubActionsRole:
        env, iam = ctx.env_name, _iam_prefix(account)
        # What the deploy role must not touch: the baseline that defines it.
        protected = policies.Baseline(
            role_arns=tuple(f"{iam}:role/{n}" for n in (*role_names.values(), self.trail.delivery_role_name)),
            oidc_provider_arn=f"{iam}:oidc-provider/{GITHUB_OIDC_HOST}",
            trail_bucket_arn=self.trail.bucket_arn,
            trail_log_group_arn=self.trail.log_group_arn,
            trail_key_arn=self.trail.key_arn,
        )
        return GithubActionsRole(
            self,
            "deploy-role",
            GithubActionsRoleProps(
                role_name=role_names["deploy"],
                description=f"GitHub Actions deploys {env} (environment {env}, its reviewers approve)",
                provider_arn=self.oidc_provider.provider_arn,
                repository=ctx.project.github.repository,
                subjects=(f"environment:{env}",),
                managed_policy_arns=(_read_only(account),),
                inline_policies=(
                    InlinePolicy("deploy", policies.deploy_statements(account, _state_role_arn(ctx), protected)),
                ),
                # A deployment of every stack (EKS, RDS blue/green) outlasts the default hour.
                max_session_duration=4 * 3600,
            ),
        )

    def _create_plan_role(self, ctx: StackContext, account: policies.AccountScope, role_name: str) -> GithubActionsRole:
        env, pull_requests = ctx.env_name, ctx.config.baseline.pull_request_plans
        return GithubActionsRole(
            self,
            "plan-role",
            GithubActionsRoleProps(
                role_name=role_name,
                description=f"Read-only plans of {env}: the drift job" + (", pull requests" if pull_requests else ""),
                provider_arn=self.oidc_provider.provider_arn,
                repository=ctx.project.github.repository,
                subjects=(f"environment:{env}-drift",) + (("pull_request",) if pull_requests else ()),
                managed_policy_arns=(_read_only(account),),
                inline_policies=(InlinePolicy("plan", policies.plan_statements(account, _state_role_arn(ctx))),),
            ),
        )

    def _create_cluster_admin_role(self, ctx: StackContext, account: policies.AccountScope, role_name: str) -> IamRole:
        return IamRole(
            self,
            "cluster-admin-role",
            IamRoleProps(
                role_name=role_name,
                description=f"Kubernetes cluster-admin of the {ctx.env_name} EKS cluster (EKS access entry)",
                # The account's own IAM (SSO permission sets, administrators) decides who
                # may assume it; the role carries no AWS permissions beyond finding clusters.
                assumed_by=(Principal("AWS", (f"{_iam_prefix(account)}:root",)),),
                inline_policies=(InlinePolicy("find-clusters", policies.cluster_admin_statements(account)),),
            ),
        )


def _iam_prefix(account: policies.AccountScope) -> str:
    return f"arn:{account.partition}:iam::{account.account_id}"


def _read_only(account: policies.AccountScope) -> str:
    return f"arn:{account.partition}:iam::aws:policy/{policies.READ_ONLY_POLICY}"


def _state_role_arn(ctx: StackContext) -> str:
    # The configuration model refuses an environment without its state role.
    return ctx.config.state.role_arn or ""

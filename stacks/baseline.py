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


class BaselineStack(EnvironmentStack):
    function = "baseline"

    def __init__(self, scope: Construct, ctx: StackContext):
        super().__init__(scope, ctx)
        cfg, name = ctx.config, self.naming.name
        partition = aws.data_aws_partition.DataAwsPartition(self, "partition").partition
        scope_ = policies.AccountScope(
            partition=partition,
            region=cfg.aws.region,
            account_id=cfg.aws.account_id,
            project=ctx.project.name,
            environment=ctx.env_name,
        )
        # The configuration model refuses an environment without its state role.
        state_role_arn = cfg.state.role_arn or ""
        repository = ctx.project.github.repository
        read_only = f"arn:{partition}:iam::aws:policy/{policies.READ_ONLY_POLICY}"
        role_names = {
            kind: name("baseline", f"{kind}-role", kind=ResourceKind.IAM_ROLE) for kind in ("deploy", "plan", "cluster-admin")
        }

        self.trail = CloudTrailTrail(
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
        self.oidc_provider = GithubOidcProvider(
            self, "github-oidc", GithubOidcProviderProps(create=cfg.baseline.github_oidc_provider)
        )
        iam = f"arn:{partition}:iam::{cfg.aws.account_id}"
        protected = policies.Baseline(
            role_arns=tuple(
                f"{iam}:role/{n}" for n in (*role_names.values(), self.trail.delivery_role_name)
            ),
            oidc_provider_arn=f"{iam}:oidc-provider/{GITHUB_OIDC_HOST}",
            trail_bucket_arn=self.trail.bucket_arn,
            trail_log_group_arn=self.trail.log_group_arn,
            trail_key_arn=self.trail.key_arn,
        )
        self.deploy_role = GithubActionsRole(
            self,
            "deploy-role",
            GithubActionsRoleProps(
                role_name=role_names["deploy"],
                description=f"GitHub Actions deploys {ctx.env_name} (environment {ctx.env_name}, its reviewers approve)",
                provider_arn=self.oidc_provider.provider_arn,
                repository=repository,
                subjects=(f"environment:{ctx.env_name}",),
                managed_policy_arns=(read_only,),
                inline_policies=(InlinePolicy("deploy", policies.deploy_statements(scope_, state_role_arn, protected)),),
                # A deployment of every stack (EKS, RDS blue/green) outlasts the default hour.
                max_session_duration=4 * 3600,
            ),
        )
        plan_subjects = (f"environment:{ctx.env_name}-drift",) + (("pull_request",) if cfg.baseline.pull_request_plans else ())
        self.plan_role = GithubActionsRole(
            self,
            "plan-role",
            GithubActionsRoleProps(
                role_name=role_names["plan"],
                description=f"Read-only plans of {ctx.env_name}: the drift job" + (", pull requests" if cfg.baseline.pull_request_plans else ""),
                provider_arn=self.oidc_provider.provider_arn,
                repository=repository,
                subjects=plan_subjects,
                managed_policy_arns=(read_only,),
                inline_policies=(InlinePolicy("plan", policies.plan_statements(scope_, state_role_arn)),),
            ),
        )
        self.cluster_admin_role = IamRole(
            self,
            "cluster-admin-role",
            IamRoleProps(
                role_name=role_names["cluster-admin"],
                description=f"Kubernetes cluster-admin of the {ctx.env_name} EKS cluster (EKS access entry)",
                # The account's own IAM (SSO permission sets, administrators) decides who
                # may assume it; the role carries no AWS permissions beyond finding clusters.
                assumed_by=(Principal("AWS", (f"{iam}:root",)),),
                inline_policies=(InlinePolicy("find-clusters", policies.cluster_admin_statements(scope_)),),
            ),
        )

        # The contract other stacks read (compute: the cluster's access entries).
        self.deploy_role_arn: str = self.deploy_role.role_arn
        self.plan_role_arn: str = self.plan_role.role_arn
        self.cluster_admin_role_arn: str = self.cluster_admin_role.role_arn

        self.output("deploy_role_arn", self.deploy_role_arn, f"GitHub environment {ctx.env_name}: variable AWS_DEPLOY_ROLE_ARN")
        self.output("plan_role_arn", self.plan_role_arn, f"GitHub environment {ctx.env_name}-drift: variable AWS_DRIFT_ROLE_ARN")
        self.output("cluster_admin_role_arn", self.cluster_admin_role_arn, "Cluster administrators assume it (kubectl)")
        self.output("github_oidc_provider_arn", self.oidc_provider.provider_arn, "IAM OIDC provider for GitHub Actions tokens")
        self.output("trail_arn", self.trail.trail_arn, "Multi-region CloudTrail trail of the account")
        self.output("trail_bucket_name", self.trail.bucket_name, "S3 bucket of the trail's log files")
        self.output("trail_log_group_name", self.trail.log_group_name, "CloudWatch Logs copy of the trail")

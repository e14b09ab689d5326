"""``ci-<env>``: the GitHub Actions runner inside the environment's VPC.

The EKS API endpoint is private: the jobs that reach it (deploying and planning
``ai-workloads-<env>``) run on this CodeBuild-hosted runner, in the private subnets,
admitted to the cluster's security group on 443. Every other job stays on
GitHub-hosted runners (docs/decisions.md, "CI reaches the private cluster").
"""

from __future__ import annotations

from constructs import Construct

from constructs_lib.ci.github_actions_runner import GithubActionsRunner, GithubActionsRunnerProps
from constructs_lib.naming import ResourceKind
from stacks.base import EnvironmentStack, StackContext
from stacks.compute import ComputeStack
from stacks.networking import NetworkingStack
from stacks.outputs import export
from stacks.security import SecurityStack


class CiStack(EnvironmentStack):
    """Exposes ``runner`` (:class:`GithubActionsRunner`)."""

    function = "ci"

    def __init__(
        self,
        scope: Construct,
        ctx: StackContext,
        *,
        security: SecurityStack,
        networking: NetworkingStack,
        compute: ComputeStack,
    ):
        super().__init__(scope, ctx)
        cfg, name = ctx.config, self.naming.name
        runner_cfg = cfg.ci_runner
        project_name = name("ci", "runner", kind=ResourceKind.CODEBUILD_PROJECT)
        self.runner = GithubActionsRunner(
            self,
            "runner",
            GithubActionsRunnerProps(
                project_name=project_name,
                repository=ctx.project.github.repository,
                connection_arn=runner_cfg.connection_arn,
                vpc_id=networking.network.vpc_id,
                subnet_ids=networking.network.private_subnet_ids,
                security_group_name=name("ci", "runner-sg", kind=ResourceKind.SECURITY_GROUP),
                role_name=name("ci", "runner-role", kind=ResourceKind.IAM_ROLE),
                log_group_name=f"/aws/codebuild/{project_name}",
                log_retention_days=cfg.logging.retention_days,
                log_kms_key_arn=security.kms_key_arn("logs"),
                encryption_key_arn=security.kms_key_arn("data"),
                compute_type=runner_cfg.compute_type,
                image=runner_cfg.image,
                build_timeout_minutes=runner_cfg.build_timeout_minutes,
                concurrent_build_limit=runner_cfg.concurrent_build_limit,
            ),
        )
        self.runner.allow_https_to(
            "cluster-api", compute.cluster.cluster_security_group_id, "Kubernetes API, from the in-VPC CI runners"
        )
        export(
            self,
            self.runner,
            runner_label="runs-on label prefix of the jobs that need the private EKS API (then -<run_id>-<run_attempt>)",
        )
        export(
            self,
            self.runner,
            prefix="runner_",
            project_name="CodeBuild project running the in-VPC GitHub Actions jobs",
            security_group_id="Security group of the runners (admitted to the EKS API on 443)",
        )

"""``ci_runner:``: the GitHub Actions runner inside the environment's VPC (``ci-<env>`` stack).

The EKS API endpoint is private, so the jobs that talk to Kubernetes (the
``ai-workloads`` deploy and its drift check) run on an AWS CodeBuild-hosted runner in
the private subnets. CodeBuild reaches GitHub through an AWS CodeConnections
connection, created once per account in the console (its GitHub App handshake cannot
be automated) and named here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from constructs_lib.ci.github import CONNECTION_ARN
from sophia_config.types import Model

ConnectionArn = Annotated[str, Field(pattern=CONNECTION_ARN.pattern)]


class CiRunnerConfig(Model):
    """The CodeBuild project that runs this environment's in-VPC GitHub Actions jobs."""

    connection_arn: ConnectionArn
    """AWS CodeConnections connection to GitHub (status ``AVAILABLE``), in this environment's
    account and region. Required: there is no default connection."""
    compute_type: Literal["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"] = (
        "BUILD_GENERAL1_MEDIUM"
    )
    """Build instance size. Default: ``BUILD_GENERAL1_MEDIUM`` (4 vCPU, 7 GB: a synth and
    a Terraform plan of the Kubernetes stacks)."""
    image: Annotated[str, Field(pattern=r"^aws/codebuild/[a-z0-9./:_-]+$")] = "aws/codebuild/standard:7.0"
    """CodeBuild-curated image the runner starts in. Default: ``aws/codebuild/standard:7.0``
    (Ubuntu 22.04): ``actions/setup-python`` downloads prebuilt Pythons for Ubuntu only."""
    build_timeout_minutes: Annotated[int, Field(ge=5, le=480)] = 120
    """A job longer than this is stopped (CodeBuild allows 5..480). Default: 120, the
    deploy job's ``timeout-minutes``."""
    concurrent_build_limit: Annotated[int, Field(ge=1)] = 2
    """Runners this project starts at once. Default: 2 (a deploy and a drift check)."""

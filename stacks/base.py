"""What every function stack of an environment shares: provider, tags, state backend, naming."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cdktf import TerraformOutput, TerraformStack
from constructs import Construct

from constructs_lib import guards, tagging
from constructs_lib.naming import Naming
from constructs_lib.providers import aws
from constructs_lib.state import layout
from constructs_lib.state.s3_backend import use_s3_backend
from sophia_config import Environment, EnvironmentConfig, ProjectConfig


@dataclass(frozen=True)
class StackContext:
    """What a function stack needs to know about where it is deployed."""

    project: ProjectConfig
    environment: Environment

    @property
    def env_name(self) -> str:
        return self.environment.name

    @property
    def config(self) -> EnvironmentConfig:
        return self.environment.config

    @property
    def naming(self) -> Naming:
        return Naming(self.project.name, self.environment.name)

    @property
    def default_tags(self) -> dict[str, str]:
        """The provider's ``default_tags``, for the places they do not reach
        (launch template ``tag_specifications``: instances and volumes)."""
        return tagging.default_tags(
            project=self.project.name,
            environment=self.env_name,
            owner=self.project.owner,
            cost_center=self.project.cost_center,
        )


# The oldest Terraform every stack runs on: write-only arguments (the RDS password_wo of a
# blue/green database) and ephemeral resources need 1.11, the S3 backend's lock file
# (use_lockfile) 1.10. An older Terraform stops at init, before any plan, with its own
# "Unsupported Terraform Core version" error (docs/troubleshooting.md).
TERRAFORM_REQUIRED_VERSION = ">= 1.11"


def require_terraform(stack: TerraformStack) -> None:
    """State in ``stack`` the Terraform it needs (``terraform { required_version }``)."""
    stack.add_override("terraform.required_version", TERRAFORM_REQUIRED_VERSION)


def state_kms_key_id(project: ProjectConfig, role_arn: str) -> str:
    """The state key by its alias ARN, in the state account (the key ARN itself is only
    known once state-bootstrap has run; S3 resolves the alias in the caller's account,
    which the assumed state role is)."""
    partition = role_arn.split(":")[1]
    return f"arn:{partition}:kms:{project.state.region}:{project.state.account_id}:{layout.kms_alias(project.name)}"


class EnvironmentStack(TerraformStack):
    """A function stack (``<function>-<env>``) with the AWS provider, default tags and S3 state."""

    function: ClassVar[str]

    def __init__(self, scope: Construct, ctx: StackContext):
        super().__init__(scope, f"{self.function}-{ctx.env_name}")
        require_terraform(self)
        self.ctx = ctx
        self.naming = ctx.naming
        cfg = ctx.config
        self.aws_provider = aws.provider.AwsProvider(
            self,
            "aws",
            region=cfg.aws.region,
            # A mistyped profile or role can never deploy an environment into another account.
            allowed_account_ids=[cfg.aws.account_id],
            default_tags=[
                aws.provider.AwsProviderDefaultTags(
                    tags=tagging.default_tags(
                        project=ctx.project.name,
                        environment=ctx.env_name,
                        owner=ctx.project.owner,
                        cost_center=ctx.project.cost_center,
                    )
                )
            ],
        )
        state, role_arn = ctx.project.state, cfg.state.role_arn
        # The backend and every remote-state read of this stack's outputs assume the
        # environment's role in the state account (config: state.role_arn).
        use_s3_backend(
            self,
            bucket=state.bucket,
            key=layout.state_key(ctx.project.name, ctx.env_name, self.function),
            region=state.region,
            lock_table=state.lock_table,
            use_lockfile=state.use_lockfile,
            role_arn=role_arn,
            kms_key_id=state_kms_key_id(ctx.project, role_arn) if role_arn else None,
            workspace_key_prefix=layout.workspace_key_prefix(ctx.project.name, ctx.env_name),
        )
        tagging.apply(self, self.function)
        guards.install(
            self,
            guards.GuardOptions(require_database_deletion_protection=cfg.resilience.deletion_protection),
        )

    def output(self, name: str, value, description: str, sensitive: bool = False) -> TerraformOutput:
        """A documented stack output (what reviewers and other stacks read)."""
        return TerraformOutput(self, name, value=value, description=description, sensitive=sensitive)

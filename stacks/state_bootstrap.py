"""``state-bootstrap``: the state bucket, key and lock table, and each environment's role
to reach them, kept in a local state.

Deploy it in the state account (``config/project.yaml`` ``state.account_id``) before
any other stack, and again when an environment is added (docs/deployment.md,
"Bootstrapping an account").
"""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from constructs_lib import guards, tagging
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.state import layout
from constructs_lib.state.state_store import EnvironmentAccess, StateStore, StateStoreProps
from sophia_config import AppConfig
from stacks.base import require_terraform

STACK_NAME = "state-bootstrap"
# Relative to the stack's folder <outdir>/stacks/state-bootstrap/: <outdir>/../state-bootstrap.tfstate.
STATE_PATH = "../../../state-bootstrap.tfstate"


class StateBootstrapStack(TerraformStack):
    def __init__(self, scope: Construct, config: AppConfig):
        super().__init__(scope, STACK_NAME)
        require_terraform(self)
        project = config.project
        aws.provider.AwsProvider(
            self,
            "aws",
            region=project.state.region,
            allowed_account_ids=[project.state.account_id],
            default_tags=[
                aws.provider.AwsProviderDefaultTags(
                    tags=tagging.default_tags(
                        project=project.name,
                        environment="global",
                        owner=project.owner,
                        cost_center=project.cost_center,
                    )
                )
            ],
        )
        # The chicken-and-egg of remote state: this stack's own state stays local. Terraform
        # runs in <outdir>/stacks/state-bootstrap/, and every synthesis replaces <outdir> as a
        # whole, so the state lives next to <outdir> (the project directory for cdktf.out):
        # a relative path keeps the output the same on every machine. Commit nothing of it
        # (.gitignore: *.tfstate*); back it up.
        LocalBackend(self, path=STATE_PATH)
        self.store = StateStore(
            self,
            "state-store",
            StateStoreProps(
                bucket_name=project.state.bucket,
                lock_table_name=project.state.lock_table,
                kms_alias=check(layout.kms_alias(project.name), ResourceKind.KMS_ALIAS),
                region=project.state.region,
                # The configuration model refuses an environment without its role.
                environments=tuple(
                    EnvironmentAccess(
                        environment=env.name,
                        role_name=env.config.state.role_arn.rpartition("/")[2],
                        trusted_account_id=env.config.aws.account_id,
                        key_prefix=layout.environment_prefix(project.name, env.name),
                    )
                    for env in config.environments
                    if env.config.state.role_arn
                ),
            ),
        )
        tagging.set_component(self.store, "state")
        tagging.apply(self, "state")
        guards.install(self)
        TerraformOutput(self, "state_bucket", value=self.store.bucket_name, description="S3 bucket holding every stack's state")
        TerraformOutput(self, "lock_table", value=self.store.lock_table_name, description="DynamoDB table for state locks")
        TerraformOutput(self, "state_kms_key_arn", value=self.store.kms_key_arn, description="KMS key encrypting the state")
        for name, role in sorted(self.store.roles.items()):
            TerraformOutput(
                self,
                f"state_role_arn_{name}",
                value=role.role_arn,
                description=f"Role environment {name} assumes to reach its state ({layout.environment_prefix(project.name, name)}/)",
            )

"""``state-bootstrap``: the state bucket and lock table, kept in a local state.

Deploy it once per project, before any other stack (README, "Bootstrap order").
"""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from constructs_lib import guards, tagging
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.state.state_store import StateStore, StateStoreProps
from sophia_config import ProjectConfig

STACK_NAME = "state-bootstrap"


class StateBootstrapStack(TerraformStack):
    def __init__(self, scope: Construct, project: ProjectConfig):
        super().__init__(scope, STACK_NAME)
        aws.provider.AwsProvider(
            self,
            "aws",
            region=project.state.region,
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
        # The chicken-and-egg of remote state: this stack's own state stays local
        # (commit nothing of it; keep terraform.tfstate somewhere safe).
        LocalBackend(self, path="terraform.tfstate")
        self.store = StateStore(
            self,
            "state-store",
            StateStoreProps(
                bucket_name=project.state.bucket,
                lock_table_name=project.state.lock_table,
                kms_alias=check(f"alias/{project.name}/terraform-state", ResourceKind.KMS_ALIAS),
            ),
        )
        tagging.set_component(self.store, "state")
        tagging.apply(self, "state")
        guards.install(self)
        TerraformOutput(self, "state_bucket", value=self.store.bucket_name, description="S3 bucket holding every stack's state")
        TerraformOutput(self, "lock_table", value=self.store.lock_table_name, description="DynamoDB table for state locks")
        TerraformOutput(self, "state_kms_key_arn", value=self.store.kms_key_arn, description="KMS key encrypting the state")

"""``StateStore``: the S3 bucket and DynamoDB table that hold every stack's state.

Created once per project by the ``state-bootstrap`` stack (which itself keeps a
local state). Both resources refuse destruction (``prevent_destroy``): losing them
loses the record of everything deployed.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.kms_key import KmsKey, KmsKeyProps
from constructs_lib.storage.secure_bucket import (
    LifecycleRule,
    SecureBucket,
    SecureBucketProps,
)


@dataclass(frozen=True)
class StateStoreProps:
    bucket_name: str
    lock_table_name: str
    kms_alias: str
    noncurrent_version_days: int = 365
    """Keep old state versions this long: they are the way back from a bad apply."""


class StateStore(Construct):
    """Outputs: ``bucket_name``, ``lock_table_name``, ``kms_key_arn``."""

    def __init__(self, scope: Construct, id_: str, props: StateStoreProps):
        super().__init__(scope, id_)
        check(props.lock_table_name, ResourceKind.DYNAMODB_TABLE)
        self.key = KmsKey(self, "kms", KmsKeyProps(alias=props.kms_alias, description="Terraform state encryption"))
        self.bucket = SecureBucket(
            self,
            "bucket",
            SecureBucketProps(
                bucket_name=props.bucket_name,
                kms_key_arn=self.key.key_arn,
                prevent_destroy=True,
                lifecycle_rules=(LifecycleRule(id="state-history", noncurrent_expiration_days=props.noncurrent_version_days),),
            ),
        )
        self.table = aws.dynamodb_table.DynamodbTable(
            self,
            "lock-table",
            name=props.lock_table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key="LockID",
            attribute=[aws.dynamodb_table.DynamodbTableAttribute(name="LockID", type="S")],
            point_in_time_recovery=aws.dynamodb_table.DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=aws.dynamodb_table.DynamodbTableServerSideEncryption(
                enabled=True, kms_key_arn=self.key.key_arn
            ),
            deletion_protection_enabled=True,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        self.bucket_name: str = self.bucket.bucket_name
        self.lock_table_name: str = self.table.name
        self.kms_key_arn: str = self.key.key_arn

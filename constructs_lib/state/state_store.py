"""``StateStore``: the S3 bucket, KMS key and DynamoDB table that hold every stack's state,
and the role through which each environment reaches its own part of them.

Created once per project by the ``state-bootstrap`` stack (which itself keeps a
local state), in the state account. Bucket and table refuse destruction
(``prevent_destroy``): losing them loses the record of everything deployed.

Environments may live in other accounts. Each gets a role here, trusted by its
account, and the three resources' own policies grant that role exactly its key
prefix (:mod:`constructs_lib.state.layout`):

* bucket policy: ``s3:ListBucket`` with ``s3:prefix`` under the prefix, and
  Get/Put/DeleteObject on ``<prefix>/*`` (state, lock file, other workspaces);
* key policy: use of the key through S3 for objects under the prefix (the encryption
  context is the object ARN: the bucket has no S3 Bucket Key for that reason), and
  through DynamoDB for the lock table;
* table resource policy: Get/Put/DeleteItem on lock items whose ``LockID`` starts with
  ``<bucket>/<prefix>/`` (``dynamodb:LeadingKeys``), which covers the ``-md5`` digests.

The roles have no permissions policy of their own: these three policies are the one
place that says what an environment's pipeline may do with the state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.iam_role import IamRole, IamRoleProps
from constructs_lib.security.kms_key import KmsKey, KmsKeyProps
from constructs_lib.security.policy import Condition, Principal, Statement, policy_document
from constructs_lib.state import layout
from constructs_lib.storage.secure_bucket import (
    LifecycleRule,
    SecureBucket,
    SecureBucketProps,
)

_PREFIX = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*/[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class EnvironmentAccess:
    """One environment's way into the state: a role of the state account, trusted by the
    environment's account, limited to the environment's key prefix."""

    environment: str
    """Environment name; names the policy statements (``...Dev``)."""
    role_name: str
    """Name of the role this construct creates in the state account."""
    trusted_account_id: str
    """The environment's account. Its root is the trusted principal, so the account's own
    IAM decides which of its principals may assume the role (the baseline grants its
    deploy, plan and cluster-admin roles; account administrators keep their reach)."""
    key_prefix: str
    """``<project>/<env>`` (:func:`~constructs_lib.state.layout.environment_prefix`), no slashes at the ends."""


@dataclass(frozen=True)
class StateStoreProps:
    bucket_name: str
    """State bucket name (S3 naming rules)."""
    lock_table_name: str
    """DynamoDB table for the backends' locks (``LockID`` hash key)."""
    kms_alias: str
    """Alias of the key encrypting the objects and the table (:func:`~constructs_lib.state.layout.kms_alias`)."""
    region: str
    """Region of the bucket, key and table: names the ``kms:ViaService`` endpoints."""
    environments: tuple[EnvironmentAccess, ...] = ()
    """The environments that keep their state here, one role each. Default: none (only the
    state account's own administrators reach the state)."""
    noncurrent_version_days: int = 365
    """Keep old state versions this long: they are the way back from a bad apply. Default: 365."""


class StateStore(Construct):
    """Outputs: ``bucket_name``, ``lock_table_name``, ``kms_key_arn``, ``roles`` (environment -> :class:`IamRole`)."""

    def __init__(self, scope: Construct, id_: str, props: StateStoreProps):
        super().__init__(scope, id_)
        check(props.lock_table_name, ResourceKind.DYNAMODB_TABLE)
        self._validate(id_, props)
        self.props = props
        self._partition = aws.data_aws_partition.DataAwsPartition(self, "partition").partition
        bucket_arn = f"arn:{self._partition}:s3:::{props.bucket_name}"

        # The roles first: the policies below name them, and S3, KMS and DynamoDB refuse a
        # policy whose principal does not exist yet.
        self.roles: dict[str, IamRole] = {
            access.environment: IamRole(
                self,
                f"role-{access.environment}",
                IamRoleProps(
                    role_name=access.role_name,
                    assumed_by=(Principal("AWS", (f"arn:{self._partition}:iam::{access.trusted_account_id}:root",)),),
                    description=f"Terraform state of environment {access.environment}: {access.key_prefix}/ only",
                ),
            )
            for access in props.environments
        }
        self.key = KmsKey(
            self,
            "kms",
            KmsKeyProps(
                alias=props.kms_alias,
                description="Terraform state encryption",
                extra_policy_statements=tuple(
                    statement for access in props.environments for statement in self._key_statements(access, bucket_arn)
                ),
            ),
        )
        self.bucket = SecureBucket(
            self,
            "bucket",
            SecureBucketProps(
                bucket_name=props.bucket_name,
                kms_key_arn=self.key.key_arn,
                # Per-object encryption context, so the key policy can tell prefixes apart.
                bucket_key_enabled=False,
                prevent_destroy=True,
                lifecycle_rules=(LifecycleRule(id="state-history", noncurrent_expiration_days=props.noncurrent_version_days),),
                extra_policy_statements=tuple(
                    statement for access in props.environments for statement in self._bucket_statements(access, bucket_arn)
                ),
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
        if props.environments:
            document = policy_document(
                self,
                "lock-table-policy-document",
                [statement for access in props.environments for statement in self._table_statements(access)],
            )
            self.table_policy = aws.dynamodb_resource_policy.DynamodbResourcePolicy(
                self, "lock-table-policy", resource_arn=self.table.arn, policy=document.json
            )
        self.bucket_name: str = self.bucket.bucket_name
        self.lock_table_name: str = self.table.name
        self.kms_key_arn: str = self.key.key_arn

    # --- the grants, one environment at a time ------------------------------------------

    def _role(self, access: EnvironmentAccess) -> tuple[Principal, ...]:
        return (Principal("AWS", (self.roles[access.environment].role_arn,)),)

    def _bucket_statements(self, access: EnvironmentAccess, bucket_arn: str) -> tuple[Statement, ...]:
        suffix = _sid(access.environment)
        return (
            Statement(
                sid=f"StateList{suffix}",
                actions=("s3:ListBucket",),
                resources=(bucket_arn,),
                principals=self._role(access),
                conditions=(Condition("StringLike", "s3:prefix", (f"{access.key_prefix}/*",)),),
            ),
            Statement(
                sid=f"StateObjects{suffix}",
                # Delete: the S3 lock file is removed on unlock.
                actions=("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
                resources=(f"{bucket_arn}/{access.key_prefix}/*",),
                principals=self._role(access),
            ),
        )

    def _key_statements(self, access: EnvironmentAccess, bucket_arn: str) -> tuple[Statement, ...]:
        suffix = _sid(access.environment)
        return (
            Statement(
                sid=f"StateObjectsKey{suffix}",
                actions=("kms:Decrypt", "kms:GenerateDataKey"),
                resources=("*",),
                principals=self._role(access),
                conditions=(
                    Condition("StringEquals", "kms:ViaService", (f"s3.{self.props.region}.amazonaws.com",)),
                    Condition("StringLike", "kms:EncryptionContext:aws:s3:arn", (f"{bucket_arn}/{access.key_prefix}/*",)),
                ),
            ),
            # DynamoDB uses the table's key on the caller's behalf, and creates grants for
            # itself; AWS's key policy for DynamoDB allows these to the table's users
            # (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html).
            Statement(
                sid=f"StateLocksKey{suffix}",
                actions=("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"),
                resources=("*",),
                principals=self._role(access),
                conditions=(Condition("StringEquals", "kms:ViaService", (f"dynamodb.{self.props.region}.amazonaws.com",)),),
            ),
            # Apart: kms:GrantIsForAWSResource exists only on grant requests, and would
            # fail the data-key calls above.
            Statement(
                sid=f"StateLocksKeyGrant{suffix}",
                actions=("kms:CreateGrant",),
                resources=("*",),
                principals=self._role(access),
                conditions=(
                    Condition("StringEquals", "kms:ViaService", (f"dynamodb.{self.props.region}.amazonaws.com",)),
                    Condition("Bool", "kms:GrantIsForAWSResource", ("true",)),
                ),
            ),
        )

    def _table_statements(self, access: EnvironmentAccess) -> tuple[Statement, ...]:
        return (
            Statement(
                sid=f"StateLocks{_sid(access.environment)}",
                actions=("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"),
                resources=(self.table.arn,),
                principals=self._role(access),
                conditions=(
                    Condition(
                        "ForAllValues:StringLike",
                        "dynamodb:LeadingKeys",
                        (layout.lock_id_pattern(self.props.bucket_name, access.key_prefix),),
                    ),
                ),
            ),
        )

    @staticmethod
    def _validate(id_: str, props: StateStoreProps) -> None:
        where = f"StateStore {id_}"
        for field, values in (
            ("environment", [a.environment for a in props.environments]),
            ("role_name", [a.role_name for a in props.environments]),
            ("key_prefix", [a.key_prefix for a in props.environments]),
        ):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValidationError(f"{where}: each environment needs its own {field}, got {repeated!r} more than once")
        for access in props.environments:
            check(access.role_name, ResourceKind.IAM_ROLE)
            if not _PREFIX.fullmatch(access.key_prefix):
                raise ValidationError(
                    f"{where}: key_prefix of {access.environment!r} must be '<project>/<env>' (no '*', no leading or "
                    f"trailing '/'), got {access.key_prefix!r}"
                )
            if not re.fullmatch(r"\d{12}", access.trusted_account_id):
                raise ValidationError(
                    f"{where}: trusted_account_id of {access.environment!r} must be a 12-digit account id, "
                    f"got {access.trusted_account_id!r}"
                )


def _sid(environment: str) -> str:
    """``"staging"`` -> ``"Staging"``: policy statement ids are alphanumeric."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]", environment))

"""A customer-managed KMS key for one purpose, with rotation and a least-privilege key policy."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.providers import aws
from constructs_lib.security.policy import (
    Condition,
    Principal,
    Statement,
    policy_document,
)


@dataclass(frozen=True)
class ServiceGrant:
    """Lets an AWS service principal use the key, and only for this account's resources."""

    service: str
    """Service principal, e.g. ``logs.us-west-2.amazonaws.com``."""
    actions: tuple[str, ...] = (
        "kms:Encrypt*",
        "kms:Decrypt*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
    )
    conditions: tuple[Condition, ...] = ()
    """Extra conditions (e.g. ``kms:EncryptionContext:aws:logs:arn``)."""
    sid: str | None = None
    """Statement id; needed when one service gets two statements. Default: ``Service<Name>``
    from the service principal (``logs.<region>.amazonaws.com`` -> ``ServiceLogs``)."""
    pin_source_account: bool = True
    """Add ``aws:SourceAccount = <this account>`` against the confused deputy. Turn it
    off only for a service that does not send the key (CloudWatch Logs documents its
    key policy with the encryption-context condition alone) and pin the account
    through ``conditions`` instead."""


@dataclass(frozen=True)
class KmsKeyProps:
    alias: str
    """Alias, ``alias/...`` (see ``Naming.alias``)."""
    description: str
    service_grants: tuple[ServiceGrant, ...] = ()
    """Services allowed to use the key. Default: none (IAM principals of the account only)."""
    deletion_window_in_days: int = 30
    """Waiting period before deletion. Default: the maximum, 30 days."""
    rotation_period_in_days: int = 365
    """Automatic rotation period. Rotation is always on."""
    extra_policy_statements: tuple[Statement, ...] = ()
    """Statements added to the key policy, e.g. a role of this account allowed to use the
    key through one service for one resource (``kms:ViaService`` and an encryption-context
    condition). Each must name its principals, never ``*``. Default: none."""


class KmsKey(Construct):
    """Customer-managed symmetric key with rotation; the account's IAM policies govern
    its use, plus the named services for their own resources in this account.

    Outputs: ``key_arn``, ``key_id``, ``alias_name``.
    """

    def __init__(self, scope: Construct, id_: str, props: KmsKeyProps):
        super().__init__(scope, id_)
        if not 7 <= props.deletion_window_in_days <= 30:
            raise ValidationError(
                f"KmsKey {id_}: deletion_window_in_days must be 7..30, got {props.deletion_window_in_days}"
            )
        if not 90 <= props.rotation_period_in_days <= 2560:
            raise ValidationError(
                f"KmsKey {id_}: rotation_period_in_days must be 90..2560, got {props.rotation_period_in_days}"
            )
        for extra in props.extra_policy_statements:
            if not extra.principals or any(p.type == "*" or "*" in p.identifiers for p in extra.principals):
                raise ValidationError(
                    f"KmsKey {id_}: extra_policy_statements must name their principals (never '*'), "
                    f"got {extra.sid or extra.actions!r} with {extra.principals!r}"
                )
        identity = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "identity")
        partition = aws.data_aws_partition.DataAwsPartition(self, "partition")
        account_root = f"arn:{partition.partition}:iam::{identity.account_id}:root"

        statements = [
            # Without this statement IAM policies could not grant use of the key and
            # the key could become unmanageable.
            Statement(
                sid="AccountAdministration",
                actions=("kms:*",),
                resources=("*",),
                principals=(Principal("AWS", (account_root,)),),
            )
        ]
        for grant in props.service_grants:
            statements.append(
                Statement(
                    sid=grant.sid or "Service" + "".join(part.capitalize() for part in grant.service.split(".")[0].split("-")),
                    actions=grant.actions,
                    resources=("*",),
                    principals=(Principal("Service", (grant.service,)),),
                    conditions=(
                        (Condition("StringEquals", "aws:SourceAccount", (identity.account_id,)),)
                        if grant.pin_source_account
                        else ()
                    )
                    + grant.conditions,
                )
            )
        statements.extend(props.extra_policy_statements)
        policy = policy_document(self, "policy", statements)

        self.key = aws.kms_key.KmsKey(
            self,
            "key",
            description=props.description,
            enable_key_rotation=True,
            rotation_period_in_days=props.rotation_period_in_days,
            deletion_window_in_days=props.deletion_window_in_days,
            policy=policy.json,
        )
        self.alias = aws.kms_alias.KmsAlias(self, "alias", name=props.alias, target_key_id=self.key.key_id)
        self.key_arn: str = self.key.arn
        self.key_id: str = self.key.key_id
        self.alias_name: str = self.alias.name

"""``IamRole``: an IAM role with a trust policy and least-privilege permissions.

Trust and permissions are :class:`~constructs_lib.security.policy.Statement`
values rendered by ``aws_iam_policy_document``; nothing is a hand-written JSON
string. Validation refuses the grants that are never least privilege: an
``Allow`` of ``*`` actions, a ``*`` principal in the trust policy, an ``Allow``
without resources, and the AWS-managed administrator policies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security import facts
from constructs_lib.security.policy import (
    Condition,
    Principal,
    Statement,
    policy_document,
)

_POLICY_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,128}$")


def refuse_broad_managed_policies(owner: str, arns: Iterable[str]) -> None:
    """Refuse the managed policies that are never least privilege
    (:func:`~constructs_lib.security.facts.is_broad_managed_policy`), for every role
    construct alike; ``owner`` (``IamRole <id>``) starts the message."""
    for arn in arns:
        if facts.is_broad_managed_policy(arn):
            raise ValidationError(
                f"{owner}: managed_policy_arns must not grant administrator access or hold another broad managed policy "
                f"(AdministratorAccess, PowerUserAccess, *FullAccess), got {arn!r}"
            )


@dataclass(frozen=True)
class InlinePolicy:
    """A named inline policy of the role (lives and dies with the role)."""

    name: str
    """Policy name, unique within the role (letters, digits, ``+=,.@_-``)."""
    statements: tuple[Statement, ...]
    """Statements; each ``Allow`` names its resources."""


@dataclass(frozen=True)
class IamRoleProps:
    role_name: str
    """Role name (checked against IAM's 64-character limit)."""
    assumed_by: tuple[Principal, ...]
    """Who may assume the role (``Service``, ``AWS`` or ``Federated`` principals)."""
    description: str
    """What the role is for (shown in the console and CloudTrail)."""
    trust_conditions: tuple[Condition, ...] = ()
    """Conditions on ``sts:AssumeRole``, e.g. ``aws:SourceAccount`` / ``aws:SourceArn``
    against the confused deputy. Default: none."""
    assume_actions: tuple[str, ...] = ("sts:AssumeRole",)
    """Default ``sts:AssumeRole``; ``sts:AssumeRoleWithWebIdentity`` for IRSA."""
    inline_policies: tuple[InlinePolicy, ...] = field(default_factory=tuple)
    """Least-privilege permissions scoped to this role's resources. Default: none."""
    managed_policy_arns: tuple[str, ...] = ()
    """AWS or customer managed policies (e.g. ``AmazonEKSWorkerNodePolicy``). Default: none."""
    max_session_duration: int = 3600
    """Seconds (3600..43200). Default: one hour."""
    permissions_boundary_arn: str | None = None
    """Optional permissions boundary. Default: none."""


class IamRole(Construct):
    """An IAM role, its inline policies and managed-policy attachments.

    Outputs: ``role_arn``, ``role_name``, ``role`` (the ``aws_iam_role``), ``inline_policies``
    (name -> ``aws_iam_role_policy``, for ``depends_on`` of what needs the permissions in place).
    """

    def __init__(self, scope: Construct, id_: str, props: IamRoleProps):
        super().__init__(scope, id_)
        self._validate(id_, props)
        trust = policy_document(
            self,
            "trust",
            [
                Statement(
                    sid="Assume",
                    actions=props.assume_actions,
                    principals=props.assumed_by,
                    conditions=props.trust_conditions,
                )
            ],
        )
        self.role = aws.iam_role.IamRole(
            self,
            "role",
            name=props.role_name,
            description=props.description,
            assume_role_policy=trust.json,
            max_session_duration=props.max_session_duration,
            permissions_boundary=props.permissions_boundary_arn,
        )
        self.inline_policies: dict[str, aws.iam_role_policy.IamRolePolicy] = {}
        for policy in props.inline_policies:
            document = policy_document(self, f"policy-{policy.name}", policy.statements)
            self.inline_policies[policy.name] = aws.iam_role_policy.IamRolePolicy(
                self, f"inline-{policy.name}", name=policy.name, role=self.role.id, policy=document.json
            )
        for index, arn in enumerate(props.managed_policy_arns):
            aws.iam_role_policy_attachment.IamRolePolicyAttachment(
                self, f"managed-{index}", role=self.role.name, policy_arn=arn
            )
        self.role_arn: str = self.role.arn
        self.role_name: str = self.role.name

    @staticmethod
    def _validate(id_: str, props: IamRoleProps) -> None:
        check(props.role_name, ResourceKind.IAM_ROLE)
        if not props.assumed_by:
            raise ValidationError(f"IamRole {id_}: assumed_by must name at least one principal, got {props.assumed_by!r}")
        for principal in props.assumed_by:
            if principal.type == "*" or "*" in principal.identifiers:
                raise ValidationError(f"IamRole {id_}: assumed_by must not be '*' (anyone), got {principal!r}")
        if not 3600 <= props.max_session_duration <= 43200:
            raise ValidationError(
                f"IamRole {id_}: max_session_duration must be 3600..43200 seconds, got {props.max_session_duration}"
            )
        names = [policy.name for policy in props.inline_policies]
        for policy in props.inline_policies:
            if not _POLICY_NAME.fullmatch(policy.name) or names.count(policy.name) > 1:
                raise ValidationError(
                    f"IamRole {id_}: inline policy names must be unique and use letters, digits and '+=,.@_-', "
                    f"got {policy.name!r}"
                )
            if not policy.statements:
                raise ValidationError(f"IamRole {id_}: inline policy {policy.name!r} has no statements")
            for statement in policy.statements:
                if statement.effect != "Allow":
                    continue
                if "*" in statement.actions:
                    raise ValidationError(
                        f"IamRole {id_}: inline policy {policy.name!r} must not allow all actions ('*'), "
                        f"got actions={statement.actions!r}"
                    )
                if not statement.resources:
                    raise ValidationError(
                        f"IamRole {id_}: inline policy {policy.name!r} statement {statement.sid or statement.actions!r} "
                        "must name its resources"
                    )
        refuse_broad_managed_policies(f"IamRole {id_}", props.managed_policy_arns)

"""``IrsaRole``: an IAM role that one Kubernetes service account assumes (IAM Roles for Service Accounts)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import Fn
from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.iam_role import InlinePolicy, refuse_broad_managed_policies
from constructs_lib.security.policy import Condition, Principal, Statement, policy_document

_K8S_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")


@dataclass(frozen=True)
class IrsaRoleProps:
    role_name: str
    """IAM role name (checked against IAM's limits)."""
    oidc_provider_arn: str
    """ARN of the cluster's IAM OIDC provider (``EksCluster.oidc_provider_arn``)."""
    oidc_provider_url: str
    """Issuer URL of the cluster, ``https://oidc.eks...`` (``EksCluster.oidc_provider_url``)."""
    namespace: str
    """Namespace of the service account."""
    service_account: str
    """Name of the service account; only this one account in this namespace may assume the role."""
    managed_policy_arns: tuple[str, ...] = ()
    """Managed policies attached to the role. Default: none."""
    inline_policies: tuple[InlinePolicy, ...] = ()
    """Permissions written for this one role (e.g. scoped to one cluster's resources).
    Default: none."""


class IrsaRole(Construct):
    """A role trusted by the cluster's OIDC provider for exactly one service account
    (``sub`` and ``aud`` both pinned, so no other pod and no other audience can use it).

    Outputs: ``role_arn``, ``role_name``.
    """

    def __init__(self, scope: Construct, id_: str, props: IrsaRoleProps):
        super().__init__(scope, id_)
        check(props.role_name, ResourceKind.IAM_ROLE)
        for arg in ("namespace", "service_account"):
            value = getattr(props, arg)
            if not _K8S_NAME.fullmatch(value):
                raise ValidationError(f"IrsaRole {id_}: {arg} must be a Kubernetes object name, got {value!r}")
        refuse_broad_managed_policies(f"IrsaRole {id_}", props.managed_policy_arns)
        names = [policy.name for policy in props.inline_policies]
        for policy in props.inline_policies:
            if names.count(policy.name) > 1 or not policy.statements:
                raise ValidationError(
                    f"IrsaRole {id_}: inline policies need unique names and at least one statement, got {policy.name!r}"
                )

        issuer = Fn.replace(props.oidc_provider_url, "https://", "")
        trust = policy_document(
            self,
            "trust",
            [
                Statement(
                    sid="ServiceAccount",
                    actions=("sts:AssumeRoleWithWebIdentity",),
                    principals=(Principal("Federated", (props.oidc_provider_arn,)),),
                    conditions=(
                        Condition("StringEquals", f"{issuer}:sub", (f"system:serviceaccount:{props.namespace}:{props.service_account}",)),
                        Condition("StringEquals", f"{issuer}:aud", ("sts.amazonaws.com",)),
                    ),
                )
            ],
        )
        self.role = aws.iam_role.IamRole(self, "role", name=props.role_name, assume_role_policy=trust.json)
        for index, arn in enumerate(props.managed_policy_arns):
            aws.iam_role_policy_attachment.IamRolePolicyAttachment(
                self, f"policy-{index}", role=self.role.name, policy_arn=arn
            )
        for policy in props.inline_policies:
            document = policy_document(self, f"inline-{policy.name}-document", policy.statements)
            aws.iam_role_policy.IamRolePolicy(
                self, f"inline-{policy.name}", name=policy.name, role=self.role.id, policy=document.json
            )
        self.role_arn: str = self.role.arn
        self.role_name: str = self.role.name

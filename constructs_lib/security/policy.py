"""IAM policy documents built with the provider's ``aws_iam_policy_document`` data source.

Statements are plain typed values; :func:`policy_document` turns them into a
data source whose ``json`` attribute is what a role, key or bucket policy takes.
Terraform renders and normalises the JSON, so no policy is a hand-written string.
:func:`inline_role_policy` puts one on a role. Also what an IAM role ARN looks like
(:data:`ROLE_ARN_PATTERN`, :func:`check_role_arn`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cdktf import Token
from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.providers import aws

ROLE_ARN_PATTERN = r"arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+"
"""An IAM role ARN in any partition; the role's path may hold slashes."""


@dataclass(frozen=True)
class Condition:
    test: str
    variable: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Principal:
    type: str
    """``AWS``, ``Service``, ``Federated`` or ``*``."""
    identifiers: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ()
    effect: str = "Allow"
    sid: str | None = None
    principals: tuple[Principal, ...] = ()
    conditions: tuple[Condition, ...] = field(default_factory=tuple)
    not_actions: tuple[str, ...] = ()


def policy_document(scope: Construct, id_: str, statements: list[Statement] | tuple[Statement, ...]):
    """An ``aws_iam_policy_document`` data source for ``statements``; use its ``.json``."""
    doc_statements = []
    for st in statements:
        doc_statements.append(
            aws.data_aws_iam_policy_document.DataAwsIamPolicyDocumentStatement(
                sid=st.sid,
                effect=st.effect,
                actions=list(st.actions) or None,
                not_actions=list(st.not_actions) or None,
                resources=list(st.resources) or None,
                principals=[
                    aws.data_aws_iam_policy_document.DataAwsIamPolicyDocumentStatementPrincipals(
                        type=p.type, identifiers=list(p.identifiers)
                    )
                    for p in st.principals
                ]
                or None,
                condition=[
                    aws.data_aws_iam_policy_document.DataAwsIamPolicyDocumentStatementCondition(
                        test=c.test, variable=c.variable, values=list(c.values)
                    )
                    for c in st.conditions
                ]
                or None,
            )
        )
    return aws.data_aws_iam_policy_document.DataAwsIamPolicyDocument(scope, id_, statement=doc_statements)


def deny_insecure_transport(actions: tuple[str, ...], resources: tuple[str, ...]) -> Statement:
    """The resource-policy statement that refuses ``actions`` on ``resources`` to everyone
    over plain HTTP (``aws:SecureTransport`` false): TLS only, whoever the caller."""
    return Statement(
        sid="DenyInsecureTransport",
        effect="Deny",
        actions=actions,
        resources=resources,
        principals=(Principal("*", ("*",)),),
        conditions=(Condition("Bool", "aws:SecureTransport", ("false",)),),
    )


def inline_role_policy(scope: Construct, id_: str, *, name: str, role: str, statements: list[Statement]):
    """An ``aws_iam_role_policy`` ``id_`` named ``name`` on ``role`` holding ``statements``, from
    the policy document ``<id_>-document``: how a construct grants a role access to what it owns."""
    document = policy_document(scope, f"{id_}-document", statements)
    return aws.iam_role_policy.IamRolePolicy(scope, id_, name=name, role=role, policy=document.json)


def check_role_arn(where: str, name: str, value: str) -> None:
    """Raise unless ``value`` is an IAM role ARN, or a reference Terraform resolves at apply time."""
    if not Token.is_unresolved(value) and not re.fullmatch(ROLE_ARN_PATTERN, value):
        raise ValidationError(f"{where}: {name} must be an IAM role ARN, got {value!r}")

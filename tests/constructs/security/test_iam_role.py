"""IamRole: trust policy as written, permissions as least privilege, over-broad grants refused."""

from __future__ import annotations

import json

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.errors import ValidationError
from constructs_lib.security.iam_role import IamRole, IamRoleProps, InlinePolicy
from constructs_lib.security.policy import Condition, Principal, Statement

SERVICE = (Principal("Service", ("ec2.amazonaws.com",)),)
READ = InlinePolicy("read", (Statement(actions=("s3:GetObject",), resources=("arn:aws:s3:::bucket/*",)),))


def props(**overrides) -> IamRoleProps:
    values = dict(role_name="sophia-test-role-dev", assumed_by=SERVICE, description="test")
    values.update(overrides)
    return IamRoleProps(**values)


def synth(p: IamRoleProps) -> dict:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    IamRole(stack, "role", p)
    return json.loads(CdktfTesting.synth(stack))


@pytest.fixture(scope="module")
def doc() -> dict:
    return synth(
        props(
            trust_conditions=(Condition("StringEquals", "aws:SourceAccount", ("111111111111",)),),
            inline_policies=(READ,),
            managed_policy_arns=("arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",),
        )
    )


def test_trust_policy_has_principal_and_conditions(doc):
    trust = next(d for k, d in doc["data"]["aws_iam_policy_document"].items() if "trust" in k)
    (statement,) = trust["statement"]
    assert statement["actions"] == ["sts:AssumeRole"]
    assert statement["principals"] == [{"type": "Service", "identifiers": ["ec2.amazonaws.com"]}]
    assert statement["condition"] == [{"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["111111111111"]}]
    (role,) = doc["resource"]["aws_iam_role"].values()
    assert role["assume_role_policy"].startswith("${data.aws_iam_policy_document.")
    assert role["max_session_duration"] == 3600


def test_inline_and_managed_policies_are_separate_resources(doc):
    (inline,) = doc["resource"]["aws_iam_role_policy"].values()
    assert inline["name"] == "read" and inline["policy"].startswith("${data.aws_iam_policy_document.")
    (attachment,) = doc["resource"]["aws_iam_role_policy_attachment"].values()
    assert attachment["policy_arn"].endswith("/AmazonEKSWorkerNodePolicy")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"assumed_by": ()}, "assumed_by must name at least one principal"),
        ({"assumed_by": (Principal("AWS", ("*",)),)}, "must not be '*'"),
        ({"inline_policies": (InlinePolicy("all", (Statement(actions=("*",), resources=("*",)),)),)}, "must not allow all actions"),
        ({"inline_policies": (InlinePolicy("nores", (Statement(actions=("s3:GetObject",)),)),)}, "must name its resources"),
        ({"inline_policies": (READ, READ)}, "got 'read'"),
        ({"inline_policies": (InlinePolicy("empty", ()),)}, "'empty' has no statements"),
        ({"managed_policy_arns": ("arn:aws:iam::aws:policy/AdministratorAccess",)}, "AdministratorAccess"),
        ({"managed_policy_arns": ("arn:aws:iam::aws:policy/AmazonS3FullAccess",)}, "broad managed policy"),
        ({"max_session_duration": 60}, "got 60"),
        ({"role_name": "x" * 65}, "over the AWS limit of 64"),
    ],
)
def test_over_broad_or_invalid_roles_are_rejected(overrides, message):
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(ValidationError) as info:
        IamRole(stack, "role", props(**overrides))
    assert message in str(info.value)


def test_deny_statements_may_use_wildcards():
    deny_all = InlinePolicy("guard", (Statement(effect="Deny", actions=("*",), resources=("*",)), READ.statements[0]))
    doc = synth(props(inline_policies=(deny_all,)))
    assert len(doc["resource"]["aws_iam_role_policy"]) == 1

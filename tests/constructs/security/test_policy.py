"""check_role_arn: one definition of an IAM role ARN for every construct that takes one;
inline_role_policy: one way a construct grants a role access to what it owns."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack, Testing

from constructs_lib.errors import ValidationError
from constructs_lib.providers import aws
from constructs_lib.security.policy import Statement, check_role_arn, inline_role_policy
from tests.constructs.support import synth


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::111111111111:role/sophia-model",
        "arn:aws-us-gov:iam::111111111111:role/service-role/with/path",
        "arn:aws-cn:iam::111111111111:role/a+b=c,d.e@f_g-h",
    ],
)
def test_role_arns_of_any_partition_and_path_pass(arn):
    check_role_arn("X x", "role_arn", arn)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::111111111111:user/bob",
        "arn:aws:iam::1111:role/short-account",
        "sophia-model",
        "",
    ],
)
def test_anything_else_is_refused_with_the_value(arn):
    with pytest.raises(ValidationError, match=f"X x: role_arn must be an IAM role ARN, got {arn!r}"):
        check_role_arn("X x", "role_arn", arn)


def test_a_reference_resolved_at_apply_time_passes():
    stack = TerraformStack(Testing.app(), "test")
    role = aws.iam_role.IamRole(stack, "role", name="r", assume_role_policy="{}")
    check_role_arn("X x", "role_arn", role.arn)


def test_inline_role_policy_puts_the_statements_on_the_role_through_one_document():
    def build(stack):
        inline_role_policy(
            stack,
            "grant-app",
            name="s3-read-bucket",
            role="app-role",
            statements=[Statement(sid="Read", actions=("s3:GetObject",), resources=("arn:aws:s3:::bucket/*",))],
        )

    out = synth(build)
    (policy,) = out["resource"]["aws_iam_role_policy"].values()
    (logical_id, document), = out["data"]["aws_iam_policy_document"].items()
    assert policy["name"] == "s3-read-bucket" and policy["role"] == "app-role"
    assert policy["policy"] == "${data.aws_iam_policy_document.%s.json}" % logical_id
    assert logical_id.startswith("grant-app-document")
    assert document["statement"] == [{"sid": "Read", "effect": "Allow", "actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::bucket/*"]}]

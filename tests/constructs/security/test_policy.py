"""check_role_arn: one definition of an IAM role ARN for every construct that takes one."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack, Testing

from constructs_lib.errors import ValidationError
from constructs_lib.providers import aws
from constructs_lib.security.policy import check_role_arn


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

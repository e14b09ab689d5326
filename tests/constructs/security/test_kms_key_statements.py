"""KmsKey: the extra statements a key policy may carry, and what they may not."""

from __future__ import annotations

import pytest

from constructs_lib.errors import ValidationError
from constructs_lib.security.kms_key import KmsKey, KmsKeyProps, ServiceGrant
from constructs_lib.security.policy import Condition, Principal, Statement
from tests.constructs.support import documents, statement, synth

ROLE = "arn:aws:iam::111111111111:role/sophia-state-dev"
USE = Statement(
    sid="RoleThroughS3",
    actions=("kms:Decrypt",),
    resources=("*",),
    principals=(Principal("AWS", (ROLE,)),),
    conditions=(Condition("StringEquals", "kms:ViaService", ("s3.us-west-2.amazonaws.com",)),),
)


def key_policy(props: KmsKeyProps) -> dict:
    out = synth(lambda stack: KmsKey(stack, "key", props))
    (key,) = out["resource"]["aws_kms_key"].values()
    return documents(out)[key["policy"].split(".")[2]]


def test_extra_statements_join_the_key_policy_after_the_account_statement():
    document = key_policy(KmsKeyProps(alias="alias/x", description="x", extra_policy_statements=(USE,)))
    assert [s["sid"] for s in document["statement"]] == ["AccountAdministration", "RoleThroughS3"]
    assert statement(document, "RoleThroughS3")["principals"] == [{"type": "AWS", "identifiers": [ROLE]}]


def test_two_statements_for_one_service_carry_their_own_ids():
    grants = (
        ServiceGrant("cloudtrail.amazonaws.com", sid="CloudTrailEncrypt", actions=("kms:GenerateDataKey*",)),
        ServiceGrant("cloudtrail.amazonaws.com", sid="CloudTrailDescribe", actions=("kms:DescribeKey",)),
    )
    document = key_policy(KmsKeyProps(alias="alias/x", description="x", service_grants=grants))
    assert [s["sid"] for s in document["statement"]] == ["AccountAdministration", "CloudTrailEncrypt", "CloudTrailDescribe"]


@pytest.mark.parametrize(
    "principals",
    [(), (Principal("*", ("*",)),), (Principal("AWS", ("*",)),)],
    ids=["none", "star-type", "star-identifier"],
)
def test_an_extra_statement_must_name_its_principals(principals):
    bad = Statement(sid="Anyone", actions=("kms:Decrypt",), resources=("*",), principals=principals)
    with pytest.raises(ValidationError, match="extra_policy_statements must name their principals.*'Anyone'"):
        key_policy(KmsKeyProps(alias="alias/x", description="x", extra_policy_statements=(bad,)))

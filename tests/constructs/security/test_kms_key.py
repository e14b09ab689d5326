"""KmsKey: rotation always on, the longest deletion window by default, services pinned to the account."""

from __future__ import annotations

from dataclasses import replace

import pytest

from constructs_lib.errors import ValidationError
from constructs_lib.security.kms_key import KmsKey, KmsKeyProps, ServiceGrant
from constructs_lib.security.policy import Condition
from tests.constructs.support import documents, statement, synth

LOGS = ServiceGrant(service="logs.us-west-2.amazonaws.com", pin_source_account=False,
                    conditions=(Condition("ArnLike", "kms:EncryptionContext:aws:logs:arn", ("arn:aws:logs:*:111111111111:*",)),))
SNS = ServiceGrant(service="sns.amazonaws.com")
PROPS = KmsKeyProps(alias="alias/sophia-security-data-dev", description="data", service_grants=(SNS, LOGS))


def build(props: KmsKeyProps = PROPS) -> dict:
    return synth(lambda stack: KmsKey(stack, "key", props))


@pytest.fixture(scope="module")
def out() -> dict:
    return build()


def key_policy(out: dict) -> dict:
    ((_, document),) = documents(out).items()
    return document


def test_rotation_is_on_and_deletion_waits_the_longest_window(out):
    (key,) = out["resource"]["aws_kms_key"].values()
    assert key["enable_key_rotation"] is True
    assert key["rotation_period_in_days"] == 365
    assert key["deletion_window_in_days"] == 30
    (alias,) = out["resource"]["aws_kms_alias"].values()
    assert alias["name"] == "alias/sophia-security-data-dev"
    assert alias["target_key_id"].endswith(".key_id}")


def test_only_the_account_administers_the_key(out):
    policy = key_policy(out)
    admin = statement(policy, "AccountAdministration")
    (principal,) = admin["principals"]
    assert principal["type"] == "AWS" and principal["identifiers"][0].endswith(":root")
    assert "${data.aws_caller_identity." in principal["identifiers"][0]
    # No statement names anyone outside the account or every principal.
    for each in policy["statement"]:
        for p in each["principals"]:
            assert p["type"] in ("AWS", "Service") and "*" not in p["identifiers"]


def test_services_are_pinned_to_this_account_unless_the_grant_says_how(out):
    policy = key_policy(out)
    sns = statement(policy, "ServiceSns")
    assert sns["principals"] == [{"type": "Service", "identifiers": ["sns.amazonaws.com"]}]
    assert [c["variable"] for c in sns["condition"]] == ["aws:SourceAccount"]
    logs = statement(policy, "ServiceLogs")
    # CloudWatch Logs sends no source account: the encryption context pins it instead.
    assert [c["variable"] for c in logs["condition"]] == ["kms:EncryptionContext:aws:logs:arn"]
    assert not any(a == "kms:*" for a in sns["actions"] + logs["actions"])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"deletion_window_in_days": 6}, "deletion_window_in_days must be 7..30, got 6"),
        ({"deletion_window_in_days": 31}, "deletion_window_in_days must be 7..30, got 31"),
        ({"rotation_period_in_days": 89}, "rotation_period_in_days must be 90..2560, got 89"),
    ],
)
def test_windows_outside_what_kms_allows_are_refused_with_the_value(change, message):
    with pytest.raises(ValidationError, match=f"KmsKey key: {message}"):
        build(replace(PROPS, **change))

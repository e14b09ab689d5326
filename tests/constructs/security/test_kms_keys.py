"""KmsKeySet: rotation everywhere, and each key usable by exactly the services that need it."""

from __future__ import annotations

import json
import re

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.errors import ValidationError
from constructs_lib.naming import Naming
from constructs_lib.security.kms_keys import DEFAULT_PURPOSES, PURPOSES, KmsKeySet, KmsKeySetProps

REGION = "eu-central-1"


def build(**overrides) -> tuple[KmsKeySet, TerraformStack]:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    values = dict(naming=Naming("sophia", "test"), region=REGION)
    values.update(overrides)
    return KmsKeySet(stack, "kms", KmsKeySetProps(**values)), stack


@pytest.fixture(scope="module")
def doc() -> dict:
    _, stack = build(purposes=PURPOSES)
    return json.loads(CdktfTesting.synth(stack))


def key_policy(doc: dict, purpose: str) -> list[dict]:
    documents = doc["data"]["aws_iam_policy_document"]
    (policy,) = [d for k, d in documents.items() if k.startswith(f"kms_{purpose}_policy")]
    return policy["statement"]


def service_statements(doc: dict, purpose: str) -> list[dict]:
    return [s for s in key_policy(doc, purpose) if s["principals"][0]["type"] == "Service"]


def test_one_rotated_key_and_alias_per_purpose(doc):
    keys = doc["resource"]["aws_kms_key"]
    assert len(keys) == len(PURPOSES)
    for key in keys.values():
        assert key["enable_key_rotation"] is True
        assert key["rotation_period_in_days"] == 365
        assert key["deletion_window_in_days"] == 30
    aliases = sorted(a["name"] for a in doc["resource"]["aws_kms_alias"].values())
    assert aliases == sorted(f"alias/sophia/test/security-{p}" for p in PURPOSES)


def test_every_service_statement_is_pinned_to_this_account(doc):
    found = 0
    for purpose in PURPOSES:
        for statement in service_statements(doc, purpose):
            found += 1
            conditions = {(c["test"], c["variable"]): c["values"] for c in statement["condition"]}
            if purpose == "logs":
                # CloudWatch Logs is pinned by the account in its encryption context.
                (arn,) = conditions[("ArnLike", "kms:EncryptionContext:aws:logs:arn")]
                assert "aws_caller_identity" in arn and "account_id" in arn
                assert ("StringEquals", "aws:SourceAccount") not in conditions
            else:
                assert ("StringEquals", "aws:SourceAccount") in conditions, (purpose, statement["sid"])
            assert "kms:*" not in statement["actions"]
    assert found == 3


def test_logs_key_serves_only_this_regions_log_groups(doc):
    (statement,) = service_statements(doc, "logs")
    assert statement["principals"][0]["identifiers"] == [f"logs.{REGION}.amazonaws.com"]
    context = next(c for c in statement["condition"] if c["variable"] == "kms:EncryptionContext:aws:logs:arn")
    assert context["test"] == "ArnLike"
    (arn,) = context["values"]
    assert arn.startswith("arn:") and f":logs:{REGION}:" in arn and arn.endswith(":log-group:*")


def test_alerts_key_lets_cloudwatch_and_sns_publish_and_nothing_more(doc):
    statements = service_statements(doc, "alerts")
    by_service = {s["principals"][0]["identifiers"][0]: s for s in statements}
    assert set(by_service) == {"cloudwatch.amazonaws.com", "sns.amazonaws.com"}
    for statement in statements:
        assert statement["actions"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    source_arn = next(c for c in by_service["cloudwatch.amazonaws.com"]["condition"] if c["variable"] == "aws:SourceArn")
    assert source_arn["values"][0].endswith(":alarm:*")


@pytest.mark.parametrize("purpose", ["state", "data", "secrets", "eks"])
def test_via_service_keys_name_no_service_principal(doc, purpose):
    assert service_statements(doc, purpose) == []
    (admin,) = key_policy(doc, purpose)
    assert admin["sid"] == "AccountAdministration"
    assert admin["principals"][0]["identifiers"][0].endswith(":root")


def test_default_purposes_and_key_arn_lookup():
    key_set, _ = build()
    assert tuple(key_set.keys) == DEFAULT_PURPOSES == ("logs", "data", "secrets", "eks", "alerts")
    assert key_set.key_arn("logs") == key_set.keys["logs"].key_arn
    with pytest.raises(ValidationError, match=r"no key for purpose 'state'"):
        key_set.key_arn("state")


@pytest.mark.parametrize("purposes", [("logs", "backups"), ("logs", "logs"), ()])
def test_unknown_duplicate_or_no_purposes_rejected(purposes):
    with pytest.raises(ValidationError, match=r"purposes must be distinct values from .* got " + re.escape(repr(purposes))):
        build(purposes=purposes)


def test_security_stack_keys_are_the_contract(stack_json):
    """The synthesized security stack: five rotated keys, one output per purpose."""
    for env in ("dev", "staging", "production"):
        stack = stack_json(f"security-{env}")
        keys = stack["resource"]["aws_kms_key"]
        assert len(keys) == 5 and all(k["enable_key_rotation"] for k in keys.values())
        for purpose in DEFAULT_PURPOSES:
            assert f"kms_{purpose}_key_arn" in stack["output"]

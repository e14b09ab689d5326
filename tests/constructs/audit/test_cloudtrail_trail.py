"""CloudTrailTrail: one multi-region, validated, encrypted trail with its own bucket and log group."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from constructs_lib.audit.cloudtrail_trail import CloudTrailTrail, CloudTrailTrailProps
from constructs_lib.errors import ValidationError
from tests.constructs.support import documents, statement, synth

PROPS = CloudTrailTrailProps(
    trail_name="sophia-audit-trail-staging",
    bucket_name="sophia-audit-trail-staging-222222222222",
    kms_alias="alias/sophia/staging/audit-trail",
    log_group_name="/aws/cloudtrail/sophia-audit-trail-staging",
    log_retention_days=90,
    delivery_role_name="sophia-audit-trail-delivery-role-staging",
    region="us-west-2",
    archive_days=90,
    expiration_days=730,
)


@pytest.fixture(scope="module")
def out() -> dict:
    return synth(lambda stack: CloudTrailTrail(stack, "trail", PROPS))


def only(resources: dict) -> dict:
    (value,) = resources.values()
    return value


def ref(out: dict, rtype: str, attribute: str) -> str:
    (rid,) = out["resource"][rtype]
    return f"${{{rtype}.{rid}.{attribute}}}"


def policy(out: dict, rtype: str) -> dict:
    return documents(out)[only(out["resource"][rtype])["policy"].split(".")[2]]


def test_trail_sees_every_region_and_signs_its_digests(out):
    trail = only(out["resource"]["aws_cloudtrail"])
    assert trail["is_multi_region_trail"] is True
    assert trail["include_global_service_events"] is True
    assert trail["enable_log_file_validation"] is True
    assert trail["enable_logging"] is True


def test_trail_encrypts_with_its_own_rotated_key(out):
    trail = only(out["resource"]["aws_cloudtrail"])
    key = only(out["resource"]["aws_kms_key"])
    assert trail["kms_key_id"] == ref(out, "aws_kms_key", "arn")
    assert key["enable_key_rotation"] is True
    (sse,) = out["resource"]["aws_s3_bucket_server_side_encryption_configuration"].values()
    assert sse["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"] == ref(out, "aws_kms_key", "arn")
    assert only(out["resource"]["aws_cloudwatch_log_group"])["kms_key_id"] == ref(out, "aws_kms_key", "arn")


def test_key_policy_lets_cloudtrail_encrypt_for_this_accounts_trails_only(out):
    document = policy(out, "aws_kms_key")
    encrypt = statement(document, "CloudTrailEncryptLogs")
    assert encrypt["actions"] == ["kms:GenerateDataKey*"]
    conditions = {c["variable"]: c for c in encrypt["condition"]}
    assert conditions["aws:SourceArn"]["values"][0].endswith(":trail/sophia-audit-trail-staging")
    assert conditions["kms:EncryptionContext:aws:cloudtrail:arn"]["values"][0].endswith(":trail/*")
    assert "aws:SourceAccount" in conditions
    assert statement(document, "CloudTrailDescribeKey")["actions"] == ["kms:DescribeKey"]
    logs = statement(document, "ServiceLogs")
    assert {c["variable"] for c in logs["condition"]} == {"kms:EncryptionContext:aws:logs:arn"}


def test_bucket_admits_cloudtrail_for_this_trail_only_and_tls_only(out):
    document = policy(out, "aws_s3_bucket_policy")
    sids = {s["sid"] for s in document["statement"]}
    assert {"DenyInsecureTransport", "DenyOutdatedTls", "CloudTrailAclCheck", "CloudTrailWrite"} <= sids
    write = statement(document, "CloudTrailWrite")
    assert write["principals"] == [{"type": "Service", "identifiers": ["cloudtrail.amazonaws.com"]}]
    # Only this account's prefix of this bucket.
    (resource,) = write["resources"]
    assert re.fullmatch(
        r"arn:\$\{data\.aws_partition\.[^}]+\}:s3:::sophia-audit-trail-staging-222222222222"
        r"/AWSLogs/\$\{data\.aws_caller_identity\.[^}]+\.account_id\}/\*",
        resource,
    ), resource
    for sid in ("CloudTrailWrite", "CloudTrailAclCheck"):
        conditions = {c["variable"]: c["values"] for c in statement(document, sid)["condition"]}
        assert conditions["aws:SourceArn"][0].endswith(":trail/sophia-audit-trail-staging")


def test_bucket_lifecycle_archives_then_expires(out):
    lifecycle = only(out["resource"]["aws_s3_bucket_lifecycle_configuration"])
    (rule,) = lifecycle["rule"]
    assert rule["transition"] == [{"days": 90, "storage_class": "GLACIER_IR"}]
    assert rule["expiration"] == [{"days": 730}]
    assert rule["filter"] == [{"prefix": ""}]


def test_events_go_to_the_log_group_through_a_role_for_this_trail(out):
    trail = only(out["resource"]["aws_cloudtrail"])
    group = only(out["resource"]["aws_cloudwatch_log_group"])
    assert group["name"] == PROPS.log_group_name and group["retention_in_days"] == 90
    assert trail["cloud_watch_logs_group_arn"] == ref(out, "aws_cloudwatch_log_group", "arn") + ":*"
    role = only(out["resource"]["aws_iam_role"])
    assert trail["cloud_watch_logs_role_arn"] == ref(out, "aws_iam_role", "arn")
    (trust,) = documents(out)[role["assume_role_policy"].split(".")[2]]["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["cloudtrail.amazonaws.com"]}]
    assert trust["condition"][0]["variable"] == "aws:SourceArn"
    deliver = statement(policy(out, "aws_iam_role_policy"), "Deliver")
    assert sorted(deliver["actions"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert deliver["resources"] == [ref(out, "aws_cloudwatch_log_group", "arn") + ":log-stream:*"]


def test_trail_waits_for_the_policies_it_checks(out):
    trail = only(out["resource"]["aws_cloudtrail"])
    depends = set(trail["depends_on"])
    (bucket_policy,) = out["resource"]["aws_s3_bucket_policy"]
    (role_policy,) = out["resource"]["aws_iam_role_policy"]
    assert {f"aws_s3_bucket_policy.{bucket_policy}", f"aws_iam_role_policy.{role_policy}"} <= depends


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(trail_name="x"), "trail_name must be 3..128"),
        (dict(trail_name="-trail"), "starting alphanumeric, got '-trail'"),
        (dict(expiration_days=90), "expiration_days must be after archive_days \\(90\\), got 90"),
        (dict(archive_days=0), "archive_days must be >= 1, got 0"),
        (dict(log_retention_days=0), "retention_days must be one of"),
    ],
)
def test_validation_names_the_value(change, message):
    with pytest.raises(ValidationError, match=message):
        synth(lambda stack: CloudTrailTrail(stack, "trail", replace(PROPS, **change)))

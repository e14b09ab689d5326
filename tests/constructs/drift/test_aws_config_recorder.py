"""ConfigRecorder (the shared stack's AWS Config recorder), synthesized in isolation."""

from __future__ import annotations

import dataclasses

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.drift.aws_config_recorder import ConfigRecorder
from constructs_lib.drift.aws_config_recorder_props import ConfigRecorderProps
from constructs_lib.errors import ValidationError
from tests.constructs.support import documents, statement, synth

LOGS_KEY = "arn:aws:kms:us-west-2:111111111111:key/logs"


RECORDER = ConfigRecorderProps(
    name="sophia-shared-config-recorder-dev",
    bucket_name="sophia-shared-config-dev-111111111111",
    bucket_kms_key_arn=LOGS_KEY,
    role_name="sophia-shared-config-recorder-dev",
    topic_name="sophia-shared-config-changes-dev",
    include_global_resources=True,
    delivery_frequency="Six_Hours",
    history_retention_days=365,
)


@pytest.fixture(scope="module")
def recorder() -> dict:
    return synth(lambda stack: ConfigRecorder(stack, "config", RECORDER))


def only(out: dict, resource_type: str) -> dict:
    resources = out["resource"][resource_type]
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.values()))


def test_records_all_supported_types_with_global_resources(recorder):
    rec = only(recorder, "aws_config_configuration_recorder")
    assert rec["recording_group"] == {"all_supported": True, "include_global_resource_types": True}
    assert rec["role_arn"].startswith("${aws_iam_role.")
    assert rec["recording_mode"] == {"recording_frequency": "CONTINUOUS"}


def test_global_resources_can_be_left_to_another_region():
    out = synth(lambda s: ConfigRecorder(s, "config", dataclasses.replace(RECORDER, include_global_resources=False)))
    assert only(out, "aws_config_configuration_recorder")["recording_group"]["include_global_resource_types"] is False


def test_recorder_status_depends_on_the_delivery_channel(recorder):
    status = only(recorder, "aws_config_configuration_recorder_status")
    assert status["is_enabled"] is True
    assert status["depends_on"] == [
        dep for dep in status["depends_on"] if dep.startswith("aws_config_delivery_channel.")
    ]
    assert len(status["depends_on"]) == 1


def test_delivery_channel_to_bucket_and_topic_after_permissions(recorder):
    channel = only(recorder, "aws_config_delivery_channel")
    assert channel["s3_bucket_name"].startswith("${aws_s3_bucket.")
    assert channel["s3_kms_key_arn"] == LOGS_KEY
    assert channel["sns_topic_arn"].startswith("${aws_sns_topic.")
    assert channel["snapshot_delivery_properties"] == {"delivery_frequency": "Six_Hours"}
    deps = " ".join(channel["depends_on"])
    for needed in (
        "aws_config_configuration_recorder.",
        "aws_s3_bucket_policy.",
        "aws_iam_role_policy.",
        "aws_iam_role_policy_attachment.",
    ):
        assert needed in deps, needed


def test_role_has_aws_config_role_and_scoped_delivery(recorder):
    attachment = only(recorder, "aws_iam_role_policy_attachment")
    assert attachment["policy_arn"].endswith(":iam::aws:policy/service-role/AWS_ConfigRole")
    trust = next(d for n, d in documents(recorder).items() if "role_trust" in n)
    assume = trust["statement"][0]
    assert assume["principals"] == [{"type": "Service", "identifiers": ["config.amazonaws.com"]}]
    assert assume["condition"][0]["variable"] == "aws:SourceAccount"
    inline = next(d for n, d in documents(recorder).items() if "config-delivery" in n)
    deliver = statement(inline, "Deliver")
    # Only this account's Config prefix, only with the bucket owner in control.
    assert "/AWSLogs/${data.aws_caller_identity." in deliver["resources"][0]
    assert deliver["resources"][0].endswith("/Config/*")
    assert deliver["condition"][0]["values"] == ["bucket-owner-full-control"]
    assert statement(inline, "EncryptDeliveries")["resources"] == [LOGS_KEY]


def test_config_bucket_is_a_secure_bucket_that_admits_config(recorder):
    pab = only(recorder, "aws_s3_bucket_public_access_block")
    assert all(
        pab[f] is True
        for f in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    sse = only(recorder, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert sse["apply_server_side_encryption_by_default"]["kms_master_key_id"] == LOGS_KEY
    bucket_doc = next(d for n, d in documents(recorder).items() if "bucket_policy-document" in n)
    sids = [s["sid"] for s in bucket_doc["statement"]]
    assert sids[:2] == ["DenyInsecureTransport", "DenyOutdatedTls"]
    delivery = statement(bucket_doc, "ConfigBucketDelivery")
    conditions = {c["variable"]: c["values"] for c in delivery["condition"]}
    assert conditions["s3:x-amz-acl"] == ["bucket-owner-full-control"]
    assert "aws:SourceAccount" in conditions
    lifecycle = only(recorder, "aws_s3_bucket_lifecycle_configuration")["rule"][0]
    assert lifecycle["expiration"][0]["days"] == 365
    assert lifecycle["transition"][0] == {"days": 90, "storage_class": "GLACIER_IR"}


def test_config_topic_admits_this_account_over_tls_only(recorder):
    topics = recorder["resource"]["aws_sns_topic"]
    # AWS Config cannot publish to an encrypted topic (documented exception).
    assert all("kms_master_key_id" not in t for t in topics.values())
    doc = next(d for n, d in documents(recorder).items() if "topic-policy" in n)
    publish = statement(doc, "ConfigPublish")
    assert publish["condition"][0]["variable"] == "aws:SourceAccount"
    assert statement(doc, "DenyInsecureTransport")["effect"] == "Deny"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"delivery_frequency": "Daily"}, "delivery_frequency must be one of"),
        ({"recording_frequency": "HOURLY"}, "recording_frequency must be 'CONTINUOUS' or 'DAILY', got 'HOURLY'"),
        ({"history_retention_days": 7}, "history_retention_days must be >= 30, got 7"),
        ({"bucket_name": "Config_Bucket"}, "S3_BUCKET name 'Config_Bucket' is invalid"),
        ({"role_name": "r" * 65}, "over the AWS limit of 64"),
    ],
)
def test_config_recorder_validation(changes, message):
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(ValidationError) as exc:
        ConfigRecorder(stack, "config", dataclasses.replace(RECORDER, **changes))
    assert message in str(exc.value)


def test_daily_recording_for_cheaper_environments():
    out = synth(lambda s: ConfigRecorder(s, "config", dataclasses.replace(RECORDER, recording_frequency="DAILY")))
    assert only(out, "aws_config_configuration_recorder")["recording_mode"] == {"recording_frequency": "DAILY"}

"""AlarmTopic (the shared stack's alarm topic), synthesized in isolation."""

from __future__ import annotations

import dataclasses

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.alarm_topic import AlarmTopic, AlarmTopicProps, TopicSubscription
from tests.constructs.support import documents, statement, synth

ALERTS_KEY = "arn:aws:kms:us-west-2:111111111111:key/alerts"


TOPIC = AlarmTopicProps(
    topic_name="sophia-shared-alarms-dev",
    kms_key_arn=ALERTS_KEY,
    subscriptions=(
        TopicSubscription("email", "oncall@sophia.example.com"),
        TopicSubscription("https", "https://hooks.example.com/sns"),
    ),
)


@pytest.fixture(scope="module")
def alarm_topic() -> dict:
    return synth(lambda stack: AlarmTopic(stack, "alarms", TOPIC))


def test_alarm_topic_is_encrypted_with_the_alerts_key(alarm_topic):
    topic = next(iter(alarm_topic["resource"]["aws_sns_topic"].values()))
    assert topic["kms_master_key_id"] == ALERTS_KEY


def test_cloudwatch_may_publish_for_this_account_only(alarm_topic):
    doc = next(iter(documents(alarm_topic).values()))
    publish = statement(doc, "PublishCloudwatch")
    assert publish["principals"] == [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}]
    assert publish["actions"] == ["sns:Publish"]
    assert publish["condition"][0]["test"] == "StringEquals"
    assert publish["condition"][0]["variable"] == "aws:SourceAccount"
    assert "aws_caller_identity" in publish["condition"][0]["values"][0]


def test_alarm_topic_denies_publishing_without_tls(alarm_topic):
    doc = next(iter(documents(alarm_topic).values()))
    deny = statement(doc, "DenyInsecureTransport")
    assert deny["effect"] == "Deny"
    assert deny["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]
    # No Allow statement for everyone: SNS's default "any principal of the account" policy is replaced.
    for st in doc["statement"]:
        if st.get("effect", "Allow") == "Allow":
            assert st["principals"][0]["identifiers"] != ["*"]


def test_subscriptions_from_configuration(alarm_topic):
    subs = sorted(
        (s["protocol"], s["endpoint"]) for s in alarm_topic["resource"]["aws_sns_topic_subscription"].values()
    )
    assert subs == [("email", "oncall@sophia.example.com"), ("https", "https://hooks.example.com/sns")]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kms_key_arn": ""}, "kms_key_arn is required"),
        (
            {"subscriptions": (TopicSubscription("sms", "+15555550100"),)},
            "protocol must be 'email' or 'https', got 'sms'",
        ),
        ({"subscriptions": (TopicSubscription("email", "nobody"),)}, "must be an address, got 'nobody'"),
        ({"subscriptions": (TopicSubscription("https", "http://x.example.com"),)}, "https:// URL without credentials"),
        ({"subscriptions": (TopicSubscription("https", "https://x.example.com/?key=1"),)}, "without credentials"),
        ({"subscriptions": (TopicSubscription("email", "a@b.io"), TopicSubscription("email", "a@b.io"))}, "duplicate"),
        ({"publisher_services": ("*",)}, "service principals, got '*'"),
    ],
)
def test_alarm_topic_validation(changes, message):
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(ValidationError) as exc:
        AlarmTopic(stack, "alarms", dataclasses.replace(TOPIC, **changes))
    assert message in str(exc.value)

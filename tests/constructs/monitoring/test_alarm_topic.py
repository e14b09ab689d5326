"""AlarmTopic (the shared stack's alarm topic), synthesized in isolation."""

from __future__ import annotations

import dataclasses

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.alarm_topic import AlarmTopic
from constructs_lib.monitoring.alarm_topic_props import AlarmTopicProps, SlackChannel, TopicSubscription
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


def test_slack_channels_through_aws_chatbot_without_permissions():
    props = dataclasses.replace(
        TOPIC,
        slack_channels=(SlackChannel("T0123ABCD", "C0456EFGH"),),
        chatbot_role_name="sophia-shared-alarms-chatbot-dev",
    )
    out = synth(lambda stack: AlarmTopic(stack, "alarms", props))
    [config] = out["resource"]["aws_chatbot_slack_channel_configuration"].values()
    assert (config["slack_team_id"], config["slack_channel_id"]) == ("T0123ABCD", "C0456EFGH")
    [topic] = out["resource"]["aws_sns_topic"]
    assert config["sns_topic_arns"] == [f"${{aws_sns_topic.{topic}.arn}}"]
    # Chatbot's default guardrail is AdministratorAccess: the channel is capped at reading CloudWatch.
    assert config["guardrail_policy_arns"][0].endswith(":iam::aws:policy/CloudWatchReadOnlyAccess")
    assert config["user_authorization_required"] is True
    [role] = out["resource"]["aws_iam_role"].values()
    assert role["name"] == "sophia-shared-alarms-chatbot-dev"
    assert "aws_iam_role_policy" not in out["resource"] and "aws_iam_role_policy_attachment" not in out["resource"]
    trust = next(d for n, d in out["data"]["aws_iam_policy_document"].items() if "chatbot" in n)
    assert trust["statement"][0]["principals"] == [{"type": "Service", "identifiers": ["chatbot.amazonaws.com"]}]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kms_key_arn": ""}, "kms_key_arn is required"),
        (
            {"subscriptions": (TopicSubscription("sms", "+15555550100"),)},
            "protocol must be one of email, https, got 'sms'",
        ),
        ({"subscriptions": (TopicSubscription("email", "nobody"),)}, "must be an e-mail address"),
        ({"subscriptions": (TopicSubscription("https", "http://x.example.com"),)}, "must be an https:// URL"),
        ({"subscriptions": (TopicSubscription("https", "https://x.example.com/?key=1"),)}, "must not carry credentials"),
        (
            {"subscriptions": (TopicSubscription("https", "https://hooks.slack.com/services/T0/B0/SECRET"),)},
            "hooks.slack.com webhook, whose URL is its token",
        ),
        ({"subscriptions": (TopicSubscription("email", "a@b.io"), TopicSubscription("email", "a@b.io"))}, "duplicate"),
        ({"publisher_services": ("*",)}, "service principals, got '*'"),
        ({"slack_channels": (SlackChannel("T0123ABCD", "C0456EFGH"),)}, "chatbot_role_name is required"),
        (
            {"slack_channels": (SlackChannel("team", "C0456EFGH"),), "chatbot_role_name": "r"},
            "workspace id T... and a channel id C... or G...",
        ),
    ],
)
def test_alarm_topic_validation(changes, message):
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(ValidationError) as exc:
        AlarmTopic(stack, "alarms", dataclasses.replace(TOPIC, **changes))
    assert message in str(exc.value)
    assert "SECRET" not in str(exc.value)

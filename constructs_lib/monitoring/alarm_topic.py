"""``AlarmTopic``: the KMS-encrypted SNS topic every CloudWatch alarm of an environment notifies,
and the people it reaches.

Subscribers: e-mail addresses, HTTPS endpoints without a secret in their URL, and Slack
channels through AWS Chatbot (``slack_channels``), which needs no webhook token at all:
the workspace is authorised once in the AWS Chatbot console, and a channel is named by
two ids that are not secrets. A webhook whose URL carries its token (Slack incoming
webhooks, Teams, Discord, PagerDuty integration URLs) is refused: the URL would sit in
configuration, in the plan and in the state.

The topic policy replaces SNS's default one (which lets any principal of the
account do anything): the account administers it, the named AWS services publish
to it only for this account (``aws:SourceAccount``, against the confused deputy),
and nothing is published without TLS. The key (``SecurityStack.kms_key_arn("alerts")``)
must let the publishing services and SNS use it; the security stack's key policy does.
"""

from __future__ import annotations

import re

from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.alarm_topic_props import (
    SLACK_CHANNEL_ID,
    SLACK_TEAM_ID,
    AlarmTopicProps,
    endpoint_problem,
)
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.iam_role import IamRole, IamRoleProps
from constructs_lib.security.policy import Condition, Principal, Statement, deny_insecure_transport, policy_document

_SERVICE = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com$")
# What a chat channel's members may do through AWS Chatbot: read alarms and metrics, nothing else.
# (Without a guardrail, Chatbot applies AdministratorAccess as the channel's ceiling.)
CHATBOT_GUARDRAIL_POLICY = "CloudWatchReadOnlyAccess"

# What the owning account may do with its topic (SNS's default policy, minus other accounts).
_OWNER_ACTIONS = (
    "sns:GetTopicAttributes",
    "sns:SetTopicAttributes",
    "sns:AddPermission",
    "sns:RemovePermission",
    "sns:DeleteTopic",
    "sns:Subscribe",
    "sns:ListSubscriptionsByTopic",
    "sns:Publish",
)


class AlarmTopic(Construct):
    """Outputs: ``topic_arn``, ``topic_name``, ``subscriptions``, ``chat_channels`` (the Chatbot
    channel configurations)."""

    def __init__(self, scope: Construct, id_: str, props: AlarmTopicProps):
        super().__init__(scope, id_)
        self._validate(id_, props)
        identity = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "identity")
        partition = aws.data_aws_partition.DataAwsPartition(self, "partition")

        self.topic = aws.sns_topic.SnsTopic(
            self,
            "topic",
            name=props.topic_name,
            display_name=props.display_name,
            kms_master_key_id=props.kms_key_arn,
        )
        topic_arn = self.topic.arn
        statements = [
            Statement(
                sid="AccountAdministration",
                actions=_OWNER_ACTIONS,
                resources=(topic_arn,),
                principals=(Principal("AWS", (f"arn:{partition.partition}:iam::{identity.account_id}:root",)),),
            ),
            *(
                Statement(
                    sid="Publish" + "".join(part.capitalize() for part in service.split(".")[0].split("-")),
                    actions=("sns:Publish",),
                    resources=(topic_arn,),
                    principals=(Principal("Service", (service,)),),
                    conditions=(Condition("StringEquals", "aws:SourceAccount", (identity.account_id,)),),
                )
                for service in props.publisher_services
            ),
            deny_insecure_transport(("sns:Publish",), (topic_arn,)),
        ]
        document = policy_document(self, "policy-document", statements)
        self.policy = aws.sns_topic_policy.SnsTopicPolicy(self, "policy", arn=topic_arn, policy=document.json)
        self.subscriptions = [
            aws.sns_topic_subscription.SnsTopicSubscription(
                self, f"subscription-{index}", topic_arn=topic_arn, protocol=sub.protocol, endpoint=sub.endpoint
            )
            for index, sub in enumerate(props.subscriptions)
        ]
        self.chat_channels = self._slack_channels(props, topic_arn, partition.partition)
        self.topic_arn: str = topic_arn
        self.topic_name: str = self.topic.name

    def _slack_channels(self, props: AlarmTopicProps, topic_arn: str, partition: str) -> list:
        if not props.slack_channels:
            return []
        assert props.chatbot_role_name is not None  # checked by _validate
        # The channel role carries no permission: notifications need none, and members who
        # want to run commands must map their own IAM role (user_authorization_required).
        self.chatbot_role = IamRole(
            self,
            "chatbot-role",
            IamRoleProps(
                role_name=props.chatbot_role_name,
                description="AWS Chatbot channel role of the alarm topic: no permissions",
                assumed_by=(Principal("Service", ("chatbot.amazonaws.com",)),),
            ),
        )
        return [
            aws.chatbot_slack_channel_configuration.ChatbotSlackChannelConfiguration(
                self,
                f"slack-{channel.channel_id.lower()}",
                configuration_name=f"{props.topic_name}-{channel.channel_id.lower()}",
                iam_role_arn=self.chatbot_role.role_arn,
                slack_team_id=channel.team_id,
                slack_channel_id=channel.channel_id,
                sns_topic_arns=[topic_arn],
                guardrail_policy_arns=[f"arn:{partition}:iam::aws:policy/{CHATBOT_GUARDRAIL_POLICY}"],
                user_authorization_required=True,
                logging_level="ERROR",
            )
            for channel in props.slack_channels
        ]

    @staticmethod
    def _validate(id_: str, props: AlarmTopicProps) -> None:
        where = f"AlarmTopic {id_}"
        check(props.topic_name, ResourceKind.SNS_TOPIC)
        if not props.kms_key_arn:
            raise ValidationError(
                f"{where}: kms_key_arn is required (alarm topics are always encrypted), got {props.kms_key_arn!r}"
            )
        for service in props.publisher_services:
            if not _SERVICE.fullmatch(service):
                raise ValidationError(
                    f"{where}: publisher_services entries must be service principals, got {service!r}"
                )
        seen: set[tuple[str, str]] = set()
        for index, sub in enumerate(props.subscriptions):
            if problem := endpoint_problem(sub.protocol, sub.endpoint):
                raise ValidationError(f"{where}: subscriptions[{index}]: {problem}")
            if (sub.protocol, sub.endpoint) in seen:
                raise ValidationError(f"{where}: subscriptions[{index}]: duplicate {sub.protocol} subscription")
            seen.add((sub.protocol, sub.endpoint))
        channels = [(c.team_id, c.channel_id) for c in props.slack_channels]
        if len(set(channels)) != len(channels):
            raise ValidationError(f"{where}: slack_channels must not repeat a channel, got {channels!r}")
        for team, channel in channels:
            if not SLACK_TEAM_ID.fullmatch(team) or not SLACK_CHANNEL_ID.fullmatch(channel):
                raise ValidationError(
                    f"{where}: slack_channels need a workspace id T... and a channel id C... or G..., got {(team, channel)!r}"
                )
        if props.slack_channels and not props.chatbot_role_name:
            raise ValidationError(f"{where}: chatbot_role_name is required with slack_channels, got None")

"""``AlarmTopic``: the KMS-encrypted SNS topic every CloudWatch alarm of an environment notifies.

The topic policy replaces SNS's default one (which lets any principal of the
account do anything): the account administers it, the named AWS services publish
to it only for this account (``aws:SourceAccount``, against the confused deputy),
and nothing is published without TLS. The key (``SecurityStack.kms_key_arn("alerts")``)
must let the publishing services and SNS use it; the security stack's key policy does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.policy import Condition, Principal, Statement, policy_document

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_SERVICE = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com$")

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


@dataclass(frozen=True)
class TopicSubscription:
    protocol: str
    """``email`` or ``https``."""
    endpoint: str
    """E-mail address or ``https://`` URL (no credentials in it)."""


@dataclass(frozen=True)
class AlarmTopicProps:
    topic_name: str
    """SNS topic name (``Naming.name(..., kind=ResourceKind.SNS_TOPIC)``)."""
    kms_key_arn: str
    """Customer-managed key for server-side encryption (the ``alerts`` key). Required."""
    display_name: str | None = None
    """Sender name of e-mail notifications. Default: none (the topic name)."""
    publisher_services: tuple[str, ...] = ("cloudwatch.amazonaws.com",)
    """Service principals that may publish (for this account only). Default: CloudWatch alarms."""
    subscriptions: tuple[TopicSubscription, ...] = ()
    """Subscribers (config ``alerts.subscriptions``). Default: none. E-mail
    subscriptions stay pending until the recipient confirms them."""


class AlarmTopic(Construct):
    """Outputs: ``topic_arn``, ``topic_name``."""

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
            Statement(
                sid="DenyInsecureTransport",
                effect="Deny",
                actions=("sns:Publish",),
                resources=(topic_arn,),
                principals=(Principal("*", ("*",)),),
                conditions=(Condition("Bool", "aws:SecureTransport", ("false",)),),
            ),
        ]
        document = policy_document(self, "policy-document", statements)
        self.policy = aws.sns_topic_policy.SnsTopicPolicy(self, "policy", arn=topic_arn, policy=document.json)
        self.subscriptions = [
            aws.sns_topic_subscription.SnsTopicSubscription(
                self, f"subscription-{index}", topic_arn=topic_arn, protocol=sub.protocol, endpoint=sub.endpoint
            )
            for index, sub in enumerate(props.subscriptions)
        ]
        self.topic_arn: str = topic_arn
        self.topic_name: str = self.topic.name

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
        for sub in props.subscriptions:
            key = (sub.protocol, sub.endpoint)
            if key in seen:
                raise ValidationError(f"{where}: duplicate subscription {sub.protocol} {sub.endpoint!r}")
            seen.add(key)
            if sub.protocol == "email":
                if not _EMAIL.fullmatch(sub.endpoint):
                    raise ValidationError(
                        f"{where}: email subscription endpoint must be an address, got {sub.endpoint!r}"
                    )
            elif sub.protocol == "https":
                url = urlsplit(sub.endpoint)
                if url.scheme != "https" or not url.hostname or url.username or url.password or url.query:
                    raise ValidationError(
                        f"{where}: https subscription endpoint must be an https:// URL without credentials, got {sub.endpoint!r}"
                    )
            else:
                raise ValidationError(
                    f"{where}: subscription protocol must be 'email' or 'https', got {sub.protocol!r}"
                )

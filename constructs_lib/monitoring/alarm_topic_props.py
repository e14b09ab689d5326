"""Props of :class:`~constructs_lib.monitoring.alarm_topic.AlarmTopic`: its subscribers and the
rules they follow; ``alerts:`` in the configuration checks its endpoints with
:func:`endpoint_problem`. No cdktf here (``constructs_lib/__init__.py`` says why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from constructs_lib.security import secret_scan

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
PROTOCOLS = ("email", "https")
SLACK_TEAM_ID = re.compile(r"^T[A-Z0-9]{8,}$")
SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{8,}$")
"""Slack ids as AWS Chatbot takes them: a workspace ``T...``, a channel ``C...`` (``G...``: private)."""


def endpoint_problem(protocol: str, endpoint: str) -> str | None:
    """Why ``endpoint`` cannot subscribe with ``protocol`` (without repeating it), or None.

    The message never quotes the endpoint: a refused URL may be a credential."""
    if protocol not in PROTOCOLS:
        return f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}"
    if protocol == "email":
        return None if _EMAIL.fullmatch(endpoint) else "endpoint must be an e-mail address for protocol 'email'"
    url = urlsplit(endpoint)
    if url.scheme != "https" or not url.hostname:
        return "endpoint must be an https:// URL for protocol 'https'"
    if url.username or url.password or url.query:
        return (
            "endpoint must not carry credentials (user info or query string): a tokenised webhook is a secret; "
            "use slack_channels (AWS Chatbot) or an endpoint without a secret in its URL"
        )
    service = secret_scan.token_webhook(url.hostname, url.path)
    if service:
        return (
            f"endpoint is a {service} webhook, whose URL is its token (a secret that would be in configuration, "
            "plan and state): use slack_channels (AWS Chatbot) or e-mail instead"
        )
    return None


@dataclass(frozen=True)
class TopicSubscription:
    protocol: str
    """``email`` or ``https``."""
    endpoint: str
    """E-mail address or ``https://`` URL (no credentials in it)."""


@dataclass(frozen=True)
class SlackChannel:
    """A Slack channel AWS Chatbot posts the topic's notifications to."""

    team_id: str
    """Slack workspace id (``T...``), authorised once in the AWS Chatbot console."""
    channel_id: str
    """Slack channel id (``C...``, or ``G...`` for a private channel Chatbot was invited to)."""


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
    slack_channels: tuple[SlackChannel, ...] = ()
    """Slack channels notified through AWS Chatbot (config ``alerts.slack_channels``).
    Default: none."""
    chatbot_role_name: str | None = None
    """Name of the role AWS Chatbot's channel configurations use (no permissions;
    members may only read CloudWatch). Required with ``slack_channels``. Default: none."""

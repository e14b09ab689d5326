"""``alerts:``: who hears the alarm topic (``SharedStack.alarm_topic_arn``), or why nobody does.

Every environment has alarms (the monitoring stack's and the vector database's), so every
environment either subscribes someone (``subscriptions``: e-mail or an HTTPS endpoint;
``slack_channels``: Slack through AWS Chatbot) or says ``silent: true`` with a
``silent_reason``. An alarm that reaches nobody without a stated reason is refused.

No subscriber is a secret here: a webhook whose URL carries a token is refused (it would be
in this file, in the plan and in the state); Slack goes through AWS Chatbot, whose channel
ids are not credentials.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from constructs_lib.monitoring.alarm_topic_props import SLACK_CHANNEL_ID, SLACK_TEAM_ID, endpoint_problem
from sophia_config.types import Model


class AlertSubscription(Model):
    """One subscriber of the alarm topic."""

    protocol: Literal["email", "https"]
    """``email`` (confirmed by a link in the first message) or ``https`` (a webhook, TLS only)."""
    endpoint: str
    """The address or URL. No credentials: a webhook URL carrying a token in its path
    or query is a secret, and is refused; use ``slack_channels`` for Slack."""

    @model_validator(mode="after")
    def _valid_endpoint(self) -> AlertSubscription:
        if problem := endpoint_problem(self.protocol, self.endpoint):
            # The endpoint may be a credential: the error must not print it.
            raise PydanticCustomError("redacted_value", problem, {"redact": True})
        return self


class SlackChannel(Model):
    """A Slack channel that AWS Chatbot notifies (the workspace is authorised once in the
    AWS Chatbot console of the environment's account)."""

    team_id: Annotated[str, Field(pattern=SLACK_TEAM_ID.pattern)]
    """Slack workspace id (``T...``, shown in the Chatbot console)."""
    channel_id: Annotated[str, Field(pattern=SLACK_CHANNEL_ID.pattern)]
    """Slack channel id (``C...``; ``G...`` for a private channel Chatbot was invited to)."""


class AlertsConfig(Model):
    """Who the environment's alarms reach."""

    subscriptions: list[AlertSubscription] = []
    """E-mail and HTTPS subscribers. Default: none."""
    slack_channels: list[SlackChannel] = []
    """Slack channels notified through AWS Chatbot. Default: none."""
    silent: bool = False
    """True: the alarms reach nobody on purpose (they still change state and show on the
    dashboard). Needs ``silent_reason`` and no subscriber. Default: false."""
    silent_reason: Annotated[str, Field(min_length=20, max_length=500)] | None = None
    """Why nobody is notified, for the next reader (e.g. nobody is on call for it). Only
    with ``silent: true``."""

    @model_validator(mode="after")
    def _someone_or_a_reason(self) -> AlertsConfig:
        subscribers = len(self.subscriptions) + len(self.slack_channels)
        if self.silent:
            if subscribers:
                raise ValueError(
                    f"silent: true, but {subscribers} subscriber(s) are listed: remove silent or the subscribers"
                )
            if self.silent_reason is None or not self.silent_reason.strip():
                raise ValueError("silent: true needs silent_reason: say why nobody is notified")
        elif self.silent_reason is not None:
            raise ValueError("silent_reason is read only with silent: true")
        elif not subscribers:
            raise ValueError(
                "the environment's alarms reach nobody: add subscriptions (email, https) or slack_channels, "
                "or set silent: true with a silent_reason"
            )
        return self

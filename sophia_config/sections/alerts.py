"""``alerts:``: who hears the alarm topic (``SharedStack.alarm_topic_arn``)."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import model_validator

from sophia_config.types import Model

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


class AlertSubscription(Model):
    """One subscriber of the alarm topic."""

    protocol: Literal["email", "https"]
    """``email`` (confirmed by a link in the first message) or ``https`` (a webhook, TLS only)."""
    endpoint: str
    """The address or URL. No credentials: a webhook URL carrying a token in its path
    or query is a secret and belongs in Secrets Manager, not in a configuration file."""

    @model_validator(mode="after")
    def _valid_endpoint(self) -> AlertSubscription:
        if self.protocol == "email" and not _EMAIL.fullmatch(self.endpoint):
            raise ValueError(f"endpoint must be an e-mail address for protocol 'email', got {self.endpoint!r}")
        if self.protocol == "https":
            url = urlsplit(self.endpoint)
            if url.scheme != "https" or not url.hostname:
                raise ValueError(f"endpoint must be an https:// URL for protocol 'https', got {self.endpoint!r}")
            if url.username or url.password or url.query:
                raise ValueError(
                    "endpoint must not carry credentials (user info or query string); "
                    f"keep tokenised webhooks in Secrets Manager, got {self.endpoint!r}"
                )
        return self


class AlertsConfig(Model):
    """Subscribers of the environment's alarm topic."""

    subscriptions: list[AlertSubscription] = []
    """Default: none (alarms still reach the topic and its other consumers)."""

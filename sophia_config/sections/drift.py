"""``drift:``: AWS Config, the drift detector of the ``shared`` stack.

AWS allows one configuration recorder and one delivery channel per account and
region. ``record_config`` says whether this environment owns them; ``load()``
refuses two environments that share an account and region and both say yes, and
two environments of one account that both record global resources (IAM is
global: recording it in every region records each change several times).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from constructs_lib.drift.aws_config_recorder_props import (
    DELIVERY_FREQUENCIES,
    MIN_HISTORY_RETENTION_DAYS,
    RECORDING_FREQUENCIES,
)
from sophia_config.types import Model


class DriftConfig(Model):
    """AWS Config recorder of this environment's account and region."""

    record_config: bool
    """This environment creates the account+region's configuration recorder and delivery channel."""
    include_global_resources: bool
    """Also record global resources (IAM users, roles, policies); true in one region per account only."""
    recording_frequency: Literal[RECORDING_FREQUENCIES]  # type: ignore[valid-type]
    """``CONTINUOUS`` records every change as it happens; ``DAILY`` records once a day
    (far fewer configuration items, so cheaper, but short-lived drift is missed)."""
    delivery_frequency: Literal[DELIVERY_FREQUENCIES]  # type: ignore[valid-type]
    """How often AWS Config delivers a configuration snapshot to the bucket."""
    history_retention_days: Annotated[int, Field(ge=MIN_HISTORY_RETENTION_DAYS, le=3653)]
    """Days the configuration history and snapshots are kept in the bucket (and noncurrent versions 30 more)."""

    @model_validator(mode="after")
    def _consistent(self) -> DriftConfig:
        if self.include_global_resources and not self.record_config:
            raise ValueError("include_global_resources needs record_config: true (no recorder records nothing)")
        return self

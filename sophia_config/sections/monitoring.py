"""``monitoring:``: alarm thresholds, alarm evaluation and the per-component log groups.

Every field has a default (the seed's values where it had one), so an environment
file states only what differs. Per-model inference latency thresholds live with
each model (``models[].latency_threshold_ms``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from sophia_config.types import Model

Percent = Annotated[float, Field(gt=0, le=100)]
ComponentName = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=32)]


class MonitoringConfig(Model):
    """Thresholds and evaluation of the monitoring stack's alarms."""

    node_cpu_percent: Percent = 80.0
    """Alarm when the average CPU of a node group's instances is above this (the seed's 80 %)."""
    node_memory_percent: Percent = 85.0
    """Alarm when the cluster's average node memory utilisation is above this."""
    rds_cpu_percent: Percent = 80.0
    """Alarm when the active database's CPU is above this."""
    rds_free_storage_gib: Annotated[float, Field(gt=0)] = 10.0
    """Alarm when the active database's free storage falls below this many GiB."""
    rds_max_connections: Annotated[int, Field(ge=1)] = 200
    """Alarm when the active database has more connections than this; keep it below the
    instance class's ``max_connections`` so the alarm fires before clients are refused."""
    period_seconds: Annotated[int, Field(ge=60, multiple_of=60)] = 300
    """Alarm period. 300 s matches EC2 basic monitoring; shorter periods need detailed monitoring."""
    evaluation_periods: Annotated[int, Field(ge=1, le=24)] = 3
    """N: how many recent periods an alarm looks at."""
    datapoints_to_alarm: Annotated[int, Field(ge=1, le=24)] = 2
    """M: how many of the N periods must breach (M of N tolerates one noisy sample)."""
    log_components: list[ComponentName] = Field(default_factory=lambda: ["api", "worker", "inference"])
    """Components that get a log group of their own besides the application's."""

    @model_validator(mode="after")
    def _m_of_n(self) -> MonitoringConfig:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(
                f"datapoints_to_alarm must be <= evaluation_periods, got datapoints_to_alarm="
                f"{self.datapoints_to_alarm}, evaluation_periods={self.evaluation_periods}"
            )
        if len(set(self.log_components)) != len(self.log_components):
            raise ValueError(f"log_components must be unique, got {self.log_components}")
        return self

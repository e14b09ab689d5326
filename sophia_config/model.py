"""Typed, validated, immutable configuration.

``config/project.yaml`` holds what every environment shares (the role of
``Pulumi.yaml``); each other ``config/<env>.yaml`` is one environment (the role of
``Pulumi.<stack>.yaml``): adding a file adds an environment.

Everything is validated before any construct is built. A bad value raises
:class:`ConfigError`, whose message names the file, the field path and the
value; ``main.py`` prints it without a traceback.

This module holds the models of the two files; reading them is ``loader``, the rules
across files and sections ``cross_checks``, the node groups' room for the models
``capacity_check``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from constructs_lib.ci.github import REPOSITORY
from constructs_lib.security.secret_scan import shown
from sophia_config.reader import ConfigError
from sophia_config.sections.alerts import AlertsConfig
from sophia_config.sections.baseline import BaselineConfig
from sophia_config.sections.blue_green import BlueGreenConfig
from sophia_config.sections.ci_runner import CiRunnerConfig
from sophia_config.sections.database import DatabaseConfig
from sophia_config.sections.deployment_window import (
    BusinessHours,
    MaintenanceWindow,
    TimeZone,
)
from sophia_config.sections.drift import DriftConfig
from sophia_config.sections.eks import EksConfig
from sophia_config.sections.gpu_nodes import GpuNodesConfig
from sophia_config.sections.imports import ExistingResource
from sophia_config.sections.model_registry import ModelRegistryConfig
from sophia_config.sections.models import Models
from sophia_config.sections.monitoring import MonitoringConfig
from sophia_config.sections.network import NetworkConfig
from sophia_config.sections.state_access import StateAccessConfig
from sophia_config.sections.storage import StorageConfig
from sophia_config.sections.vector_db import VectorDbConfig
from sophia_config.types import (
    AccountId,
    InstanceType,
    LogRetentionDays,
    Model,
    PositiveInt,
    Region,
)


class StateConfig(Model):
    """Where every stack keeps its Terraform state."""

    account_id: AccountId
    """The account that holds the state bucket, lock table and key (``state-bootstrap``
    deploys there). Environments in other accounts reach it through their ``state.role_arn``."""
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    """S3 bucket for all state files; created by the ``state-bootstrap`` stack."""
    lock_table: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")]
    """DynamoDB table for state locks (``LockID`` hash key)."""
    region: Region
    use_lockfile: bool = True
    """Also lock with S3 native lock files (Terraform >= 1.10)."""


class GithubConfig(Model):
    """The repository whose workflows deploy and check the environments."""

    repository: Annotated[str, Field(pattern=REPOSITORY.pattern)]
    """``<owner>/<name>``: the prefix of the OIDC ``sub`` claims the baseline roles trust
    (``repo:<owner>/<name>:environment:<env>``) and the runners' source."""


class ProjectConfig(Model):
    """Values every environment shares (``config/project.yaml``)."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,9}$")]
    owner: Annotated[str, Field(min_length=1, max_length=128)]
    cost_center: Annotated[str, Field(min_length=1, max_length=64)]
    state: StateConfig
    github: GithubConfig


class AwsConfig(Model):
    region: Region
    account_id: AccountId


class InstanceSizes(Model):
    """Instance types of the general node group (the GPU node group's are ``gpu_nodes.instance_types``)."""

    api: InstanceType
    worker: InstanceType


class Autoscaling(Model):
    min: Annotated[int, Field(ge=0)]
    max: PositiveInt
    desired: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _ordered(self) -> Autoscaling:
        if not self.min <= self.desired <= self.max:
            raise ValueError(
                f"min <= desired <= max must hold, got min={self.min}, desired={self.desired}, max={self.max}"
            )
        return self


class ComputeConfig(Model):
    instance_sizes: InstanceSizes
    autoscaling: Autoscaling


class LoggingConfig(Model):
    retention_days: LogRetentionDays


class ResilienceConfig(Model):
    multi_az: bool
    deletion_protection: bool


class DeploymentPolicy(Model):
    """The seed's ``deploymentConfig``: how changes reach this environment."""

    auto_approve: bool
    window: Literal["any", "business-hours", "maintenance-window"]
    pre_deployment_validation: bool
    post_deployment_validation: bool
    rollback_on_failure: bool = False
    time_zone: TimeZone = "UTC"
    """IANA time zone in which ``business_hours`` and ``maintenance_window`` are read."""
    business_hours: BusinessHours | None = None
    """Required with ``window: business-hours``."""
    maintenance_window: MaintenanceWindow | None = None
    """Required with ``window: maintenance-window``."""

    @model_validator(mode="after")
    def _window_defined(self) -> DeploymentPolicy:
        needed = {"business-hours": "business_hours", "maintenance-window": "maintenance_window"}.get(self.window)
        if needed and getattr(self, needed) is None:
            raise ValueError(f"window {self.window!r} needs {needed} (the hours of the window)")
        return self


class EnvironmentConfig(Model):
    """One environment (``config/<env>.yaml``)."""

    aws: AwsConfig
    network: NetworkConfig
    compute: ComputeConfig
    logging: LoggingConfig
    resilience: ResilienceConfig
    deployment: DeploymentPolicy
    blue_green: BlueGreenConfig
    database: DatabaseConfig
    storage: StorageConfig
    drift: DriftConfig
    alerts: AlertsConfig
    eks: EksConfig
    gpu_nodes: GpuNodesConfig
    model_registry: ModelRegistryConfig
    vector_db: VectorDbConfig
    models: Models
    monitoring: MonitoringConfig
    ci_runner: CiRunnerConfig
    state: StateAccessConfig = StateAccessConfig()
    baseline: BaselineConfig = BaselineConfig()
    imports: list[ExistingResource] = []

    @model_validator(mode="after")
    def _runner_connection_here(self) -> EnvironmentConfig:
        # CodeBuild uses a connection of its own account and region only.
        parts = self.ci_runner.connection_arn.split(":")
        if (parts[3], parts[4]) != (self.aws.region, self.aws.account_id):
            raise ValueError(
                f"ci_runner.connection_arn must be in this environment's account {self.aws.account_id} and region "
                f"{self.aws.region}, got {self.ci_runner.connection_arn!r}"
            )
        return self


@dataclass(frozen=True)
class Environment:
    """A validated environment: its name (the file's stem), its file, its values."""

    name: str
    source: Path
    config: EnvironmentConfig


@dataclass(frozen=True)
class AppConfig:
    project: ProjectConfig
    environments: tuple[Environment, ...]

    def environment(self, name: str) -> Environment:
        for env in self.environments:
            if env.name == name:
                return env
        known = ", ".join(e.name for e in self.environments)
        raise ConfigError([f"unknown environment {shown(name)} (known: {known})"])

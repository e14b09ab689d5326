"""Typed, validated, immutable configuration.

``config/project.yaml`` holds what every environment shares (the role of
``Pulumi.yaml``); each other ``config/<env>.yaml`` is one environment (the role of
``Pulumi.<stack>.yaml``): adding a file adds an environment.

Everything is validated before any construct is built. A bad value raises
:class:`ConfigError`, whose message names the file, the field path and the
value; ``main.py`` prints it without a traceback.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from constructs_lib.ci.github import REPOSITORY
from constructs_lib.compute.capacity import ROLLOUT_SURGE_PODS, NodeGroupCapacity, PodRequests, describe
from constructs_lib.compute.instance_types import INSTANCE_TYPES, instance_spec
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

PROJECT_FILE = "project.yaml"

# Environment names end every resource name ({project}-{component}-{type}-{env}):
# lowercase letters and digits only, so that names stay valid for S3, RDS and
# OpenSearch, and short, so that they fit OpenSearch's 28-character limit.
ENV_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,9}$")


class ConfigError(Exception):
    """A configuration file is invalid. ``str(error)`` is the user-facing message."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


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
        raise ConfigError([f"unknown environment {name!r} (known: {known})"])


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from None


def _describe(path: Path, error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            problems.append(f"{path}: {field}: missing required field")
        elif item["type"] == "extra_forbidden":
            problems.append(f"{path}: {field}: unknown field (value {item['input']!r})")
        elif (item.get("ctx") or {}).get("redact"):
            # A section refused a value that may be a credential: never echo it.
            problems.append(f"{path}: {field}: {message} (value redacted)")
        else:
            problems.append(f"{path}: {field}: {message} (value {item['input']!r})")
    return problems


def _parse(model: type[Model], path: Path) -> Model:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: expected a mapping at the top level, got {type(data).__name__}"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None


def _check_vpc_overlaps(environments: list[Environment]) -> list[str]:
    # Environments may be peered or routed through a transit gateway later: keep
    # their address spaces apart from the start.
    problems = []
    for i, first in enumerate(environments):
        for second in environments[i + 1 :]:
            a = ipaddress.ip_network(first.config.network.vpc_cidr)
            b = ipaddress.ip_network(second.config.network.vpc_cidr)
            if a.overlaps(b):
                problems.append(
                    f"{second.source}: network.vpc_cidr: {str(b)!r} overlaps {str(a)!r} "
                    f"of environment {first.name!r} ({first.source})"
                )
    return problems


def _check_config_recorders(environments: list[Environment]) -> list[str]:
    # AWS allows one configuration recorder and delivery channel per account and
    # region; a second `terraform apply` would fail (or silently take the first over).
    # Global resources (IAM) are the same in every region: record them in one only.
    problems = []
    for i, first in enumerate(environments):
        a, a_drift = first.config.aws, first.config.drift
        for second in environments[i + 1 :]:
            b, b_drift = second.config.aws, second.config.drift
            if a.account_id != b.account_id:
                continue
            if a.region == b.region and a_drift.record_config and b_drift.record_config:
                problems.append(
                    f"{second.source}: drift.record_config: true, but {first.source} already owns the AWS Config "
                    f"recorder of account {a.account_id} in {a.region} (one per account and region): set one to false"
                )
            elif a_drift.include_global_resources and b_drift.include_global_resources:
                problems.append(
                    f"{second.source}: drift.include_global_resources: true, but {first.source} already records "
                    f"global resources of account {a.account_id} (in {a.region}): set one to false"
                )
    return problems


def _check_state_access(project: ProjectConfig, project_path: Path, environments: list[Environment]) -> list[str]:
    # Each environment reaches the state account through a role of its own, limited to
    # its own prefix: a role shared by two environments would reach both.
    problems = []
    state_account = project.state.account_id
    owners: dict[str, Environment] = {}
    for env in environments:
        role, account = env.config.state.role_arn, env.config.aws.account_id
        if role is None:
            why = (
                f"account {account} differs from the state account {state_account} ({project_path} state.account_id)"
                if account != state_account
                else "the state resources grant each environment's own role, limited to its prefix, and no other principal"
            )
            problems.append(f"{env.source}: state.role_arn: required: {why} (value None)")
            continue
        if role.split(":")[4] != state_account:
            problems.append(
                f"{env.source}: state.role_arn: must be a role of the state account {state_account} "
                f"({project_path} state.account_id) (value {role!r})"
            )
        if role in owners:
            problems.append(
                f"{env.source}: state.role_arn: already the state role of environment {owners[role].name!r} "
                f"({owners[role].source}); each environment needs its own (value {role!r})"
            )
        owners.setdefault(role, env)
    return problems


def _check_github_oidc_providers(environments: list[Environment]) -> list[str]:
    # IAM holds one OIDC provider per account and URL: exactly one environment of each
    # account creates it, the others refer to it.
    problems = []
    accounts: dict[str, list[Environment]] = {}
    for env in environments:
        accounts.setdefault(env.config.aws.account_id, []).append(env)
    for account, envs in accounts.items():
        creators = [e for e in envs if e.config.baseline.github_oidc_provider]
        for extra in creators[1:]:
            problems.append(
                f"{extra.source}: baseline.github_oidc_provider: true, but {creators[0].source} already creates the "
                f"GitHub OIDC provider of account {account} (one per account): set one to false (value True)"
            )
        if not creators:
            problems.append(
                f"{envs[0].source}: baseline.github_oidc_provider: no environment of account {account} creates the "
                "GitHub OIDC provider: set it to true in one of them (value False)"
            )
    return problems


def _check_force_destroy(environments: list[Environment]) -> list[str]:
    return [
        f"{env.source}: storage.force_destroy_buckets: must be false where resilience.deletion_protection is true "
        f"(value True)"
        for env in environments
        if env.config.storage.force_destroy_buckets and env.config.resilience.deletion_protection
    ]


def _check_capacity(env: Environment) -> list[str]:
    """Every model's HPA maximum (plus the rollout's surge pod) must fit the node group it
    can schedule on at that group's maximum size: GPU models the GPU node group, the
    others the general node group (GPU nodes are tainted). Counted in whole pods per node
    of the group's smallest instance type (constructs_lib/compute/capacity.py). Each model
    is checked alone: models sharing a group, system pods and DaemonSets need room too."""
    cfg, source = env.config, env.source
    sizes, gpu = cfg.compute.instance_sizes, cfg.gpu_nodes
    type_fields = {
        False: {"compute.instance_sizes.api": sizes.api, "compute.instance_sizes.worker": sizes.worker},
        True: {f"gpu_nodes.instance_types[{i}]": t for i, t in enumerate(gpu.instance_types)},
    }
    problems = [
        f"{source}: {field}: instance type {value!r} is not in the instance table "
        f"(constructs_lib/compute/instance_types.py), so no capacity can be checked: add its row (value {value!r})"
        for fields in type_fields.values()
        for field, value in fields.items()
        if value not in INSTANCE_TYPES
    ]
    for value in dict.fromkeys(gpu.instance_types):
        if value in INSTANCE_TYPES and instance_spec(value).gpus != gpu.gpus_per_node:
            problems.append(
                f"{source}: gpu_nodes.gpus_per_node: {value} has {instance_spec(value).gpus} GPU(s), but the autoscaler "
                f"is told {gpu.gpus_per_node} (value {gpu.gpus_per_node})"
            )
    groups = {
        False: ("the general node group", "compute.autoscaling.max", cfg.compute.autoscaling.max),
        True: ("the GPU node group", "gpu_nodes.max_size", gpu.max_size),
    }
    for index, model in enumerate(cfg.models):
        types = tuple(dict.fromkeys(type_fields[model.gpu_enabled].values()))
        if any(t not in INSTANCE_TYPES for t in types):
            continue
        label, size_field, max_size = groups[model.gpu_enabled]
        res = model.resources
        pod = PodRequests.of(res.cpu_request, res.memory_request, gpus=1 if model.gpu_enabled else 0)
        smallest, per_node = NodeGroupCapacity(types, max_size).smallest_for(pod)
        node = describe(instance_spec(smallest).allocatable())
        if per_node == 0:
            problems.append(
                f"{source}: models[{index}].resources: model {model.name!r}: one pod ({pod}) does not fit on a "
                f"{smallest} node of {label} (allocatable {node}) (value {res.cpu_request}/{res.memory_request})"
            )
            continue
        needed, capacity = model.max_replicas + ROLLOUT_SURGE_PODS, max_size * per_node
        if needed > capacity:
            fixes = [f"raise {size_field} to {-(-needed // per_node)}"]
            if capacity - ROLLOUT_SURGE_PODS >= model.min_replicas:
                fixes.insert(0, f"lower max_replicas to {capacity - ROLLOUT_SURGE_PODS}")
            problems.append(
                f"{source}: models[{index}].max_replicas: model {model.name!r} in environment {env.name!r} can need "
                f"{needed} pods (max_replicas {model.max_replicas} + {ROLLOUT_SURGE_PODS} rollout surge) of {pod} each, "
                f"but {label} holds at most {capacity} ({size_field} {max_size} x {per_node} per {smallest} node, "
                f"allocatable {node}): {' or '.join(fixes)} (value {model.max_replicas})"
            )
    return problems


def load(config_dir: Path | str = "config") -> AppConfig:
    """Read and validate ``project.yaml`` and every ``<env>.yaml`` in ``config_dir``."""
    config_dir = Path(config_dir)
    project_path = config_dir / PROJECT_FILE
    if not project_path.is_file():
        raise ConfigError([f"{project_path}: file not found"])
    project = _parse(ProjectConfig, project_path)

    environments: list[Environment] = []
    problems: list[str] = []
    for path in sorted(config_dir.glob("*.yaml")):
        if path.name == PROJECT_FILE:
            continue
        name = path.stem
        if not ENV_NAME_PATTERN.fullmatch(name):
            problems.append(
                f"{path}: environment name {name!r} breaks the naming scheme: "
                f"it must match {ENV_NAME_PATTERN.pattern} (lowercase letters and digits, 2-10 characters)"
            )
            continue
        try:
            environments.append(Environment(name, path, _parse(EnvironmentConfig, path)))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if not environments and not problems:
        problems.append(f"{config_dir}: no environment files (<env>.yaml) found")
    problems.extend(_check_vpc_overlaps(environments))
    problems.extend(_check_config_recorders(environments))
    problems.extend(_check_force_destroy(environments))
    for env in environments:
        problems.extend(_check_capacity(env))
    problems.extend(_check_state_access(project, project_path, environments))
    problems.extend(_check_github_oidc_providers(environments))
    if problems:
        raise ConfigError(problems)
    return AppConfig(project=project, environments=tuple(environments))

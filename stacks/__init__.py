"""The function stacks, composed per environment."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from sophia_config import AppConfig
from stacks.adopt import adopt_existing
from stacks.ai_ml import AiMlStack
from stacks.ai_workloads import AiWorkloadsStack
from stacks.base import EnvironmentStack, StackContext
from stacks.baseline import BaselineStack
from stacks.ci import CiStack
from stacks.compute import ComputeStack
from stacks.data import DataStack
from stacks.monitoring import MonitoringStack
from stacks.networking import NetworkingStack
from stacks.security import SecurityStack
from stacks.shared import SharedStack
from stacks.state_bootstrap import StateBootstrapStack

FUNCTIONS = ("baseline", "security", "networking", "shared", "compute", "ci", "data", "ai-ml", "ai-workloads", "monitoring")

PIPELINE_EXCLUDED = ("baseline",)
"""Functions an account administrator deploys, never the pipeline (``sophia_infra.deploy``
repeats this list: it reads the synthesized output, not this package)."""


@dataclass(frozen=True)
class EnvironmentStacks:
    baseline: BaselineStack
    security: SecurityStack
    networking: NetworkingStack
    shared: SharedStack
    compute: ComputeStack
    ci: CiStack
    data: DataStack
    ai_ml: AiMlStack
    ai_workloads: AiWorkloadsStack
    monitoring: MonitoringStack

    def all(self) -> tuple[EnvironmentStack, ...]:
        return (
            self.baseline,
            self.security,
            self.networking,
            self.shared,
            self.compute,
            self.ci,
            self.data,
            self.ai_ml,
            self.ai_workloads,
            self.monitoring,
        )


def build_environment(scope: Construct, ctx: StackContext) -> EnvironmentStacks:
    """Every function stack of one environment, wired by cross-stack references.

    Dependency order (cdktf derives the real graph from the references and
    records it in ``manifest.json``): baseline, security -> networking -> shared ->
    compute -> ci, data -> ai-ml -> ai-workloads, monitoring.
    """
    baseline = BaselineStack(scope, ctx)
    security = SecurityStack(scope, ctx)
    networking = NetworkingStack(scope, ctx, security=security)
    shared = SharedStack(scope, ctx, security=security)
    compute = ComputeStack(scope, ctx, baseline=baseline, security=security, networking=networking)
    ci = CiStack(scope, ctx, security=security, networking=networking, compute=compute)
    data = DataStack(scope, ctx, security=security, networking=networking, compute=compute)
    ai_ml = AiMlStack(scope, ctx, security=security, networking=networking, shared=shared, compute=compute)
    ai_workloads = AiWorkloadsStack(scope, ctx, compute=compute, ai_ml=ai_ml)
    monitoring = MonitoringStack(
        scope, ctx, security=security, shared=shared, compute=compute, data=data, ai_ml=ai_ml, ai_workloads=ai_workloads
    )
    return EnvironmentStacks(baseline, security, networking, shared, compute, ci, data, ai_ml, ai_workloads, monitoring)


def build_app(scope: Construct, config: AppConfig) -> dict[str, EnvironmentStacks]:
    """The state bootstrap stack and every environment's stacks."""
    StateBootstrapStack(scope, config)
    environments = {env.name: build_environment(scope, StackContext(config.project, env)) for env in config.environments}
    # Existing resources listed under ``imports:`` are adopted, not re-created.
    adopt_existing(environments, config)
    return environments

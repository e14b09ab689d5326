"""``ai-workloads-<env>``: the model deployments on Kubernetes.

A stack of its own because its Kubernetes provider is configured from the cluster
that ``compute-<env>`` creates (a provider cannot depend on a resource of its own
stack), and so that every other stack is free of the kubernetes provider.
"""

from __future__ import annotations

from constructs import Construct

from stacks.base import EnvironmentStack, StackContext


class AiWorkloadsStack(EnvironmentStack):
    function = "ai-workloads"

    def __init__(self, scope: Construct, ctx: StackContext, **upstream: EnvironmentStack):
        super().__init__(scope, ctx)
        self.upstream = upstream

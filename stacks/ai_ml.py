"""``ai-ml-<env>``: GPU node group, model registry and vector database."""

from __future__ import annotations

from constructs import Construct

from stacks.base import EnvironmentStack, StackContext


class AiMlStack(EnvironmentStack):
    function = "ai-ml"

    def __init__(self, scope: Construct, ctx: StackContext, **upstream: EnvironmentStack):
        super().__init__(scope, ctx)
        self.upstream = upstream

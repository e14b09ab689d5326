"""``data-<env>``: the blue/green PostgreSQL databases and their secrets."""

from __future__ import annotations

from constructs import Construct

from stacks.base import EnvironmentStack, StackContext


class DataStack(EnvironmentStack):
    function = "data"

    def __init__(self, scope: Construct, ctx: StackContext, **upstream: EnvironmentStack):
        super().__init__(scope, ctx)
        self.upstream = upstream

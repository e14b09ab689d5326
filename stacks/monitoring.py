"""``monitoring-<env>``: log groups, dashboard and alarms built from what the other stacks create."""

from __future__ import annotations

from constructs import Construct

from stacks.base import EnvironmentStack, StackContext


class MonitoringStack(EnvironmentStack):
    function = "monitoring"

    def __init__(self, scope: Construct, ctx: StackContext, **upstream: EnvironmentStack):
        super().__init__(scope, ctx)
        self.upstream = upstream

"""``shared-<env>``: account-wide services every other stack relies on (AWS Config, the alarm topic)."""

from __future__ import annotations

from constructs import Construct

from stacks.base import EnvironmentStack, StackContext
from stacks.security import SecurityStack


class SharedStack(EnvironmentStack):
    function = "shared"

    def __init__(self, scope: Construct, ctx: StackContext, *, security: SecurityStack):
        super().__init__(scope, ctx)

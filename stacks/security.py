"""``security-<env>``: KMS keys per purpose, IAM building blocks, data-tier security groups."""

from __future__ import annotations

from constructs import Construct

from stacks.base import EnvironmentStack, StackContext


class SecurityStack(EnvironmentStack):
    function = "security"

    def __init__(self, scope: Construct, ctx: StackContext):
        super().__init__(scope, ctx)

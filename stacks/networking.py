"""``networking-<env>``: the VPC and everything that routes traffic in and out of it."""

from __future__ import annotations

from constructs import Construct

from constructs_lib.providers import aws
from stacks.base import EnvironmentStack, StackContext
from stacks.security import SecurityStack


class NetworkingStack(EnvironmentStack):
    function = "networking"

    def __init__(self, scope: Construct, ctx: StackContext, *, security: SecurityStack):
        super().__init__(scope, ctx)
        self.vpc = aws.vpc.Vpc(
            self,
            "vpc",
            cidr_block=ctx.config.network.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": self.naming.name("network", "vpc")},
        )
        self.vpc_id: str = self.vpc.id
        self.output("vpc_id", self.vpc.id, "ID of the environment's VPC")

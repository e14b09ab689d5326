"""``compute-<env>``: the EKS cluster and its general-purpose node group."""

from __future__ import annotations

from constructs import Construct

from constructs_lib.providers import aws
from stacks.base import EnvironmentStack, StackContext
from stacks.networking import NetworkingStack
from stacks.security import SecurityStack
from stacks.shared import SharedStack


class ComputeStack(EnvironmentStack):
    function = "compute"

    def __init__(
        self,
        scope: Construct,
        ctx: StackContext,
        *,
        security: SecurityStack,
        networking: NetworkingStack,
        shared: SharedStack,
    ):
        super().__init__(scope, ctx)
        # Placeholder consumer of the networking stack until the EKS cluster lands:
        # an ingress-free security group for the cluster, in the environment's VPC.
        name = self.naming.name("compute", "cluster-sg")
        self.cluster_security_group = aws.security_group.SecurityGroup(
            self,
            "cluster-sg",
            name=name,
            description="EKS cluster security group",
            vpc_id=networking.vpc_id,
            tags={"Name": name},
        )

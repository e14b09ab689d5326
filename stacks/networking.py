"""``networking-<env>``: the VPC and everything that routes traffic in and out of it."""

from __future__ import annotations

from constructs import Construct

from constructs_lib.networking.vpc_network import Networking, NetworkingProps
from stacks.base import EnvironmentStack, StackContext
from stacks.security import SecurityStack


class NetworkingStack(EnvironmentStack):
    function = "networking"

    def __init__(self, scope: Construct, ctx: StackContext, *, security: SecurityStack):
        super().__init__(scope, ctx)
        net = ctx.config.network
        region = ctx.config.aws.region
        self.network = Networking(
            self,
            "network",
            NetworkingProps(
                naming=self.naming,
                vpc_cidr=net.vpc_cidr,
                region=region,
                availability_zones=tuple(f"{region}{suffix}" for suffix in net.availability_zone_suffixes),
                subnet_prefix_lengths=net.subnet_prefix_lengths,
                az_slots=net.az_slots,
                nat_strategy=net.nat_strategy,
                flow_log_kms_key_arn=security.kms_key_arn("logs"),
                flow_log_retention_days=ctx.config.logging.retention_days,
                flow_log_aggregation_interval=net.flow_log_aggregation_interval,
                interface_endpoints=tuple(net.interface_endpoints),
            ),
        )
        network = self.network
        self.vpc = network.vpc
        self.vpc_id: str = network.vpc_id
        # The configured literal, not the VPC attribute: consumers (security group
        # rules) then need no cross-stack read for it.
        self.vpc_cidr: str = network.vpc_cidr
        self.availability_zones: tuple[str, ...] = network.availability_zones
        self.public_subnet_ids: list[str] = network.public_subnet_ids
        self.private_subnet_ids: list[str] = network.private_subnet_ids
        self.database_subnet_ids: list[str] = network.database_subnet_ids
        self.public_route_table_ids: list[str] = network.public_route_table_ids
        self.private_route_table_ids: list[str] = network.private_route_table_ids
        self.database_route_table_ids: list[str] = network.database_route_table_ids
        self.endpoint_security_group_id: str = network.endpoint_security_group_id

        self.output("vpc_id", self.vpc_id, "ID of the environment's VPC")
        self.output("vpc_cidr", self.vpc_cidr, "IPv4 CIDR of the VPC")
        self.output("public_subnet_ids", self.public_subnet_ids, "Public subnets (load balancers, NAT), one per AZ")
        self.output("private_subnet_ids", self.private_subnet_ids, "Private subnets (EKS nodes and pods), one per AZ")
        self.output("database_subnet_ids", self.database_subnet_ids, "Isolated database subnets, one per AZ")
        self.output("public_route_table_ids", self.public_route_table_ids, "Route tables of the public tier")
        self.output("private_route_table_ids", self.private_route_table_ids, "Route tables of the private tier, one per AZ")
        self.output("database_route_table_ids", self.database_route_table_ids, "Route tables of the database tier")
        self.output(
            "endpoint_security_group_id", self.endpoint_security_group_id, "Security group of the interface VPC endpoints"
        )
        self.output("nat_public_ips", network.nat_public_ips, "Public IPs the private subnets egress from (for allowlists)")
        self.output("flow_log_group_name", network.flow_logs.log_group_name, "CloudWatch log group of the VPC flow logs")

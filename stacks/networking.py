"""``networking-<env>``: the VPC and everything that routes traffic in and out of it."""

from __future__ import annotations

from constructs import Construct

from constructs_lib.networking.vpc_network import Networking, NetworkingProps
from stacks.base import EnvironmentStack, StackContext
from stacks.outputs import export
from stacks.security import SecurityStack


class NetworkingStack(EnvironmentStack):
    """Exposes ``network`` (:class:`Networking`): other stacks read ``networking.network.vpc_id``,
    ``.private_subnet_ids``, ``.database_subnet_ids``. Its ``vpc_cidr`` is the configured
    literal, not the VPC's attribute: a consumer (a security group rule) needs no cross-stack
    read for it."""

    function = "networking"

    def __init__(self, scope: Construct, ctx: StackContext, *, security: SecurityStack):
        super().__init__(scope, ctx)
        net, region = ctx.config.network, ctx.config.aws.region
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
        export(
            self,
            self.network,
            vpc_id="ID of the environment's VPC",
            vpc_cidr="IPv4 CIDR of the VPC",
            public_subnet_ids="Public subnets (load balancers, NAT), one per AZ",
            private_subnet_ids="Private subnets (EKS nodes and pods), one per AZ",
            database_subnet_ids="Isolated database subnets, one per AZ",
            public_route_table_ids="Route tables of the public tier",
            private_route_table_ids="Route tables of the private tier, one per AZ",
            database_route_table_ids="Route tables of the database tier",
            endpoint_security_group_id="Security group of the interface VPC endpoints",
            nat_public_ips="Public IPs the private subnets egress from (for allowlists)",
        )
        export(self, self.network.flow_logs, prefix="flow_", log_group_name="CloudWatch log group of the VPC flow logs")

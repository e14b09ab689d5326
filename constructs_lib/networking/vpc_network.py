"""``Networking``: the environment's VPC, three subnet tiers across AZs, egress,
flow logs and VPC endpoints (the role of terraform-aws-modules/vpc).

Tiers (one subnet per AZ each, CIDRs carved from the VPC CIDR by
:func:`~constructs_lib.networking.subnet_plan.plan_subnets`):

* ``public``: load balancers and NAT gateways; one route table, default route
  to the internet gateway. Tagged ``kubernetes.io/role/elb`` for internet-facing
  load balancers.
* ``private``: EKS nodes and pods; a route table per AZ, default route to that
  AZ's NAT gateway (``one_per_az``), the one NAT (``single``) or none
  (``none``). Tagged ``kubernetes.io/role/internal-elb``.
* ``database``: isolated; one route table without a default route and a
  network ACL that admits and emits only VPC-internal traffic.

No subnet assigns public IPs on launch: whatever needs a public address (a NAT
gateway, a load balancer) gets one explicitly. The VPC's default security
group, network ACL and route table are taken over and emptied, so a resource
that lands on a default by mistake has no connectivity instead of too much.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from constructs_lib import tagging
from constructs_lib.errors import ValidationError
from constructs_lib.naming import Naming, ResourceKind
from constructs_lib.networking.flow_logs import VpcFlowLogs
from constructs_lib.networking.flow_logs_props import VpcFlowLogsProps
from constructs_lib.networking.subnet_plan import TIERS, SubnetPrefixLengths, plan_subnets
from constructs_lib.networking.vpc_endpoints import VpcEndpoints, VpcEndpointsProps
from constructs_lib.providers import aws

NatStrategy = Literal["none", "single", "one_per_az"]
_ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class NetworkingProps:
    naming: Naming
    """Builds every resource name (component ``network``)."""
    vpc_cidr: str
    """The VPC's IPv4 range (/16../28)."""
    region: str
    """The VPC's region (endpoint service names)."""
    availability_zones: tuple[str, ...]
    """AZ names, in order; every tier has one subnet in each."""
    flow_log_kms_key_arn: str
    """KMS key for the flow-log group (flow logs are always on)."""
    subnet_prefix_lengths: SubnetPrefixLengths = SubnetPrefixLengths()
    """Per-tier prefix lengths. Default: public /24, private /20, database /24."""
    az_slots: int | None = None
    """Subnet blocks reserved per tier, >= the AZ count, so that AZs can be added later
    without moving existing subnets. Default: the AZ count (no reserve)."""
    nat_strategy: NatStrategy = "one_per_az"
    """``one_per_az`` (default: an AZ outage cuts only that AZ's egress), ``single``
    (cheaper) or ``none`` (no internet egress from private subnets)."""
    flow_log_retention_days: int = VpcFlowLogsProps.retention_days
    """Flow-log retention in days. Default: :class:`VpcFlowLogsProps`'s, 365."""
    flow_log_aggregation_interval: int = VpcFlowLogsProps.max_aggregation_interval
    """Flow-log aggregation interval, 60 or 600 seconds. Default: :class:`VpcFlowLogsProps`'s, 600."""
    gateway_endpoints: tuple[str, ...] = VpcEndpointsProps.gateway_services
    """Gateway endpoints on the private route tables. Default: S3, DynamoDB."""
    interface_endpoints: tuple[str, ...] = VpcEndpointsProps.interface_services
    """Interface endpoints in the private subnets. Default: ECR API/registry, STS, Logs."""


class Networking(Construct):
    """VPC, subnets, routing, NAT, locked-down defaults, flow logs and endpoints.

    Outputs: ``vpc_id``, ``vpc_cidr``, ``public_subnet_ids``, ``private_subnet_ids``,
    ``database_subnet_ids`` (one per AZ, in AZ order), ``subnet_cidrs`` (tier ->
    CIDRs), ``public_route_table_ids``, ``private_route_table_ids``,
    ``database_route_table_ids``, ``nat_gateway_ids``, ``nat_public_ips`` (the
    egress addresses partners may allowlist), ``availability_zones``, ``endpoint_security_group_id``,
    ``flow_logs`` (:class:`VpcFlowLogs`), ``endpoints`` (:class:`VpcEndpoints`).
    """

    def __init__(self, scope: Construct, id_: str, props: NetworkingProps):
        super().__init__(scope, id_)
        tagging.set_component(self, "networking")
        self._validate(id_, props)
        naming = props.naming
        azs = props.availability_zones
        try:
            self.subnet_cidrs: dict[str, tuple[str, ...]] = plan_subnets(
                props.vpc_cidr, len(azs), props.subnet_prefix_lengths, props.az_slots
            )
        except ValidationError as exc:
            raise ValidationError(f"Networking {id_}: {exc}") from None

        vpc_name = naming.name("network", "vpc")
        # DNS support and hostnames: interface endpoints' private DNS and EKS need both.
        self.vpc = aws.vpc.Vpc(
            self,
            "vpc",
            cidr_block=props.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": vpc_name},
        )
        self.vpc_id: str = self.vpc.id
        self.vpc_cidr: str = props.vpc_cidr
        self.availability_zones: tuple[str, ...] = azs
        self._lock_down_defaults(naming)

        self.internet_gateway = aws.internet_gateway.InternetGateway(
            self, "igw", vpc_id=self.vpc.id, tags={"Name": naming.name("network", "igw")}
        )
        subnets = {tier: self._subnets(naming, tier, azs) for tier in TIERS}
        self.public_subnet_ids: list[str] = [s.id for s in subnets["public"]]
        self.private_subnet_ids: list[str] = [s.id for s in subnets["private"]]
        self.database_subnet_ids: list[str] = [s.id for s in subnets["database"]]

        self.public_route_table_ids: list[str] = [self._public_routing(naming, subnets["public"])]
        self.nat_public_ips: list[str] = []
        nat_ids = self._nat_gateways(naming, props.nat_strategy, azs, subnets["public"])
        self.nat_gateway_ids: list[str] = list(nat_ids)
        self.private_route_table_ids: list[str] = self._private_routing(naming, azs, subnets["private"], nat_ids)
        # Database tier: no route out of the VPC at all.
        database_rt = self._route_table(naming, "database", None, subnets["database"])
        self.database_route_table_ids: list[str] = [database_rt.id]
        self._network_acls(naming, props.vpc_cidr, subnets)

        self.flow_logs = VpcFlowLogs(
            self,
            "flow-logs",
            VpcFlowLogsProps(
                vpc_id=self.vpc.id,
                log_group_name=naming.name("network", "flow-logs", kind=ResourceKind.LOG_GROUP),
                role_name=naming.name("network", "flow-logs-role", kind=ResourceKind.IAM_ROLE),
                kms_key_arn=props.flow_log_kms_key_arn,
                retention_days=props.flow_log_retention_days,
                max_aggregation_interval=props.flow_log_aggregation_interval,
            ),
        )
        self.endpoints = VpcEndpoints(
            self,
            "endpoints",
            VpcEndpointsProps(
                vpc_id=self.vpc.id,
                vpc_cidr=props.vpc_cidr,
                region=props.region,
                security_group_name=naming.name("network", "endpoints-sg", kind=ResourceKind.SECURITY_GROUP),
                endpoint_name=naming.name("network", "endpoint"),
                subnet_ids=tuple(self.private_subnet_ids),
                # Workloads live in the private tier; the database tier stays isolated.
                gateway_route_table_ids=tuple(self.private_route_table_ids),
                gateway_services=props.gateway_endpoints,
                interface_services=props.interface_endpoints,
            ),
        )
        self.endpoint_security_group_id: str = self.endpoints.security_group_id

    @staticmethod
    def _validate(id_: str, props: NetworkingProps) -> None:
        azs = props.availability_zones
        if not azs or len(set(azs)) != len(azs):
            raise ValidationError(f"Networking {id_}: availability_zones must be distinct and non-empty, got {azs!r}")
        for az in azs:
            if not (az.startswith(props.region) and len(az) == len(props.region) + 1 and az[-1].isalpha()):
                raise ValidationError(
                    f"Networking {id_}: availability_zones must be AZs of region {props.region!r} "
                    f"(e.g. {props.region}a), got {az!r}"
                )
        if props.nat_strategy not in ("none", "single", "one_per_az"):
            raise ValidationError(
                f"Networking {id_}: nat_strategy must be none, single or one_per_az, got {props.nat_strategy!r}"
            )
        if not props.flow_log_kms_key_arn:
            raise ValidationError(
                f"Networking {id_}: flow_log_kms_key_arn is required (flow logs are always on), "
                f"got {props.flow_log_kms_key_arn!r}"
            )

    def _lock_down_defaults(self, naming: Naming) -> None:
        # Taking over the defaults with no rules removes AWS's allow-all entries
        # (CIS AWS Foundations 5.4 for the security group).
        aws.default_security_group.DefaultSecurityGroup(
            self,
            "default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags={"Name": naming.name("network", "default-sg")},
        )
        # Every subnet gets its tier's ACL below; the default ACL, left with only
        # its implicit deny, then applies to nothing that works by accident.
        aws.default_network_acl.DefaultNetworkAcl(
            self,
            "default-nacl",
            default_network_acl_id=self.vpc.default_network_acl_id,
            tags={"Name": naming.name("network", "default-nacl")},
            # Subnets join the tier ACLs; without this every plan would show the
            # default ACL losing them (provider docs, "Managing Subnets In A Default Network ACL").
            lifecycle=TerraformResourceLifecycle(ignore_changes=["subnet_ids"]),
        )
        aws.default_route_table.DefaultRouteTable(
            self,
            "default-rt",
            default_route_table_id=self.vpc.default_route_table_id,
            route=[],
            tags={"Name": naming.name("network", "default-rt")},
        )

    def _subnets(self, naming: Naming, tier: str, azs: tuple[str, ...]) -> list:
        eks_role_tag = {"public": {"kubernetes.io/role/elb": "1"}, "private": {"kubernetes.io/role/internal-elb": "1"}}
        subnets = []
        for az, cidr in zip(azs, self.subnet_cidrs[tier], strict=True):
            subnets.append(
                aws.subnet.Subnet(
                    self,
                    f"{tier}-{az}",
                    vpc_id=self.vpc.id,
                    cidr_block=cidr,
                    availability_zone=az,
                    map_public_ip_on_launch=False,
                    tags={"Name": naming.name("network", f"{tier}-subnet", suffix=az[-1]), **eks_role_tag.get(tier, {})},
                )
            )
        return subnets

    def _route_table(self, naming: Naming, tier: str, az: str | None, subnets: list):
        suffix = az[-1] if az else None
        construct_id = f"{tier}-rt-{az}" if az else f"{tier}-rt"
        table = aws.route_table.RouteTable(
            self, construct_id, vpc_id=self.vpc.id, tags={"Name": naming.name("network", f"{tier}-rt", suffix=suffix)}
        )
        for subnet in subnets:
            aws.route_table_association.RouteTableAssociation(
                self,
                f"{construct_id}-assoc-{subnet.node.id}",
                subnet_id=subnet.id,
                route_table_id=table.id,
            )
        return table

    def _nat_gateways(self, naming: Naming, strategy: NatStrategy, azs: tuple[str, ...], public_subnets: list) -> list[str]:
        count = {"none": 0, "single": 1, "one_per_az": len(azs)}[strategy]
        ids = []
        for az, subnet in list(zip(azs, public_subnets, strict=True))[:count]:
            eip = aws.eip.Eip(self, f"nat-eip-{az}", domain="vpc", tags={"Name": naming.name("network", "nat-eip", suffix=az[-1])})
            nat = aws.nat_gateway.NatGateway(
                self,
                f"nat-{az}",
                allocation_id=eip.allocation_id,
                subnet_id=subnet.id,
                tags={"Name": naming.name("network", "nat", suffix=az[-1])},
                # A NAT gateway is only usable once the VPC has its internet gateway.
                depends_on=[self.internet_gateway],
            )
            ids.append(nat.id)
            self.nat_public_ips.append(eip.public_ip)
        return ids

    def _public_routing(self, naming: Naming, subnets: list) -> str:
        """Public tier: one route table, default route to the internet gateway."""
        table = self._route_table(naming, "public", None, subnets)
        aws.route.Route(
            self,
            "public-default-route",
            route_table_id=table.id,
            destination_cidr_block=_ANYWHERE,
            gateway_id=self.internet_gateway.id,
        )
        return table.id

    def _private_routing(self, naming: Naming, azs: tuple[str, ...], subnets: list, nat_ids: list[str]) -> list[str]:
        """Private tier: a route table per AZ, so that switching NAT strategy only changes
        routes, never route tables or associations; each AZ's default route to its NAT."""
        table_ids = []
        for index, (az, subnet) in enumerate(zip(azs, subnets, strict=True)):
            table = self._route_table(naming, "private", az, [subnet])
            if nat_ids:
                aws.route.Route(
                    self,
                    f"private-default-route-{az}",
                    route_table_id=table.id,
                    destination_cidr_block=_ANYWHERE,
                    nat_gateway_id=nat_ids[index if len(nat_ids) > 1 else 0],
                )
            table_ids.append(table.id)
        return table_ids

    def _network_acls(self, naming: Naming, vpc_cidr: str, subnets: dict[str, list]) -> None:
        # Security groups do the fine-grained filtering in the public and private
        # tiers (their ACLs allow all, as NAT return traffic needs); the database
        # tier's ACL is a second wall: nothing outside the VPC in or out.
        sources = {"public": _ANYWHERE, "private": _ANYWHERE, "database": vpc_cidr}
        for tier in TIERS:
            acl = aws.network_acl.NetworkAcl(
                self,
                f"{tier}-nacl",
                vpc_id=self.vpc.id,
                subnet_ids=[s.id for s in subnets[tier]],
                tags={"Name": naming.name("network", f"{tier}-nacl")},
            )
            for direction, egress in (("in", False), ("out", True)):
                aws.network_acl_rule.NetworkAclRule(
                    self,
                    f"{tier}-nacl-{direction}",
                    network_acl_id=acl.id,
                    rule_number=100,
                    egress=egress,
                    protocol="-1",
                    rule_action="allow",
                    cidr_block=sources[tier],
                )

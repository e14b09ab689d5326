"""``VpcEndpoints``: gateway and interface endpoints so AWS traffic stays in the VPC.

Gateway endpoints (S3, DynamoDB) are free and carry ECR image layers (stored in
S3) and state/lock traffic off the NAT gateways. Interface endpoints (ECR API
and registry, STS for IRSA, CloudWatch Logs) get private DNS, so clients need no
configuration, and a security group admitting HTTPS from the VPC CIDR only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws

_SERVICE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")
# Only these two services offer gateway endpoints.
_GATEWAY_SERVICES = frozenset(("s3", "dynamodb"))


@dataclass(frozen=True)
class VpcEndpointsProps:
    vpc_id: str
    """The VPC the endpoints serve."""
    vpc_cidr: str
    """The only source the endpoint security group admits (HTTPS)."""
    region: str
    """Region of the services (``com.amazonaws.<region>.<service>``)."""
    security_group_name: str
    """Name of the interface endpoints' security group."""
    endpoint_name: str
    """Name tag of each endpoint, followed by ``-<service>`` (e.g. ``...-endpoint-dev-s3``)."""
    subnet_ids: tuple[str, ...]
    """Subnets (one per AZ) for the interface endpoints' network interfaces."""
    gateway_route_table_ids: tuple[str, ...]
    """Route tables that get the gateway endpoints' routes."""
    gateway_services: tuple[str, ...] = ("s3", "dynamodb")
    """Gateway endpoints. Default: S3 and DynamoDB."""
    interface_services: tuple[str, ...] = ("ecr.api", "ecr.dkr", "sts", "logs")
    """Interface endpoints (private DNS on). Default: ECR API and registry, STS, CloudWatch Logs."""


class VpcEndpoints(Construct):
    """Gateway and interface VPC endpoints with a VPC-only endpoint security group.

    Outputs: ``security_group_id``, ``gateway_endpoint_ids`` and
    ``interface_endpoint_ids`` (service -> endpoint id).
    """

    def __init__(self, scope: Construct, id_: str, props: VpcEndpointsProps):
        super().__init__(scope, id_)
        self._validate(id_, props)

        self.security_group = aws.security_group.SecurityGroup(
            self,
            "security-group",
            name=props.security_group_name,
            description="Interface VPC endpoints: HTTPS from the VPC only",
            vpc_id=props.vpc_id,
            tags={"Name": props.security_group_name},
        )
        # No egress rule: Terraform removes AWS's default allow-all egress, and an
        # endpoint only answers connections (security groups are stateful).
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            self,
            "https-from-vpc",
            security_group_id=self.security_group.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=props.vpc_cidr,
        )

        self.gateway_endpoint_ids: dict[str, str] = {}
        for service in props.gateway_services:
            endpoint = aws.vpc_endpoint.VpcEndpoint(
                self,
                f"gateway-{service}",
                vpc_id=props.vpc_id,
                service_name=f"com.amazonaws.{props.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=list(props.gateway_route_table_ids),
                tags={"Name": f"{props.endpoint_name}-{service}"},
            )
            self.gateway_endpoint_ids[service] = endpoint.id

        self.interface_endpoint_ids: dict[str, str] = {}
        for service in props.interface_services:
            endpoint = aws.vpc_endpoint.VpcEndpoint(
                self,
                f"interface-{service.replace('.', '-')}",
                vpc_id=props.vpc_id,
                service_name=f"com.amazonaws.{props.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(props.subnet_ids),
                security_group_ids=[self.security_group.id],
                tags={"Name": f"{props.endpoint_name}-{service.replace('.', '-')}"},
            )
            self.interface_endpoint_ids[service] = endpoint.id
        self.security_group_id: str = self.security_group.id

    @staticmethod
    def _validate(id_: str, props: VpcEndpointsProps) -> None:
        check(props.security_group_name, ResourceKind.SECURITY_GROUP)
        for service in props.gateway_services:
            if service not in _GATEWAY_SERVICES:
                raise ValidationError(
                    f"VpcEndpoints {id_}: gateway_services must be among {sorted(_GATEWAY_SERVICES)}, got {service!r}"
                )
        for service in props.interface_services:
            if not _SERVICE.fullmatch(service):
                raise ValidationError(f"VpcEndpoints {id_}: interface service names look like 'ecr.api', got {service!r}")
        for field_name in ("gateway_services", "interface_services"):
            values = getattr(props, field_name)
            if len(set(values)) != len(values):
                raise ValidationError(f"VpcEndpoints {id_}: {field_name} must be distinct, got {values!r}")
        if props.interface_services and not props.subnet_ids:
            raise ValidationError(f"VpcEndpoints {id_}: subnet_ids are required for interface endpoints, got {props.subnet_ids!r}")
        if props.gateway_services and not props.gateway_route_table_ids:
            raise ValidationError(
                f"VpcEndpoints {id_}: gateway_route_table_ids are required for gateway endpoints, "
                f"got {props.gateway_route_table_ids!r}"
            )

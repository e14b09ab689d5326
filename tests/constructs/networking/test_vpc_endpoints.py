"""VpcEndpoints: AWS traffic stays in the VPC; the interface endpoints answer HTTPS from the VPC only."""

from __future__ import annotations

from dataclasses import replace

import pytest

from constructs_lib.errors import ValidationError
from constructs_lib.networking.vpc_endpoints import VpcEndpoints, VpcEndpointsProps
from tests.constructs.support import synth

PROPS = VpcEndpointsProps(
    vpc_id="vpc-1",
    vpc_cidr="10.10.0.0/16",
    region="us-west-2",
    security_group_name="sophia-network-endpoints-sg-dev",
    endpoint_name="sophia-network-endpoint-dev",
    subnet_ids=("subnet-a", "subnet-b"),
    gateway_route_table_ids=("rtb-a", "rtb-b"),
)


def build(props: VpcEndpointsProps = PROPS) -> dict:
    return synth(lambda stack: VpcEndpoints(stack, "endpoints", props))


@pytest.fixture(scope="module")
def out() -> dict:
    return build()


def endpoints(out: dict, kind: str) -> dict[str, dict]:
    return {e["service_name"]: e for e in out["resource"]["aws_vpc_endpoint"].values() if e["vpc_endpoint_type"] == kind}


def test_the_security_group_admits_https_from_the_vpc_and_nothing_else(out):
    (rule,) = out["resource"]["aws_vpc_security_group_ingress_rule"].values()
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 443, 443)
    assert rule["cidr_ipv4"] == "10.10.0.0/16"
    # No egress rule: an endpoint only answers, and Terraform drops AWS's allow-all egress.
    assert "aws_vpc_security_group_egress_rule" not in out["resource"]
    (group,) = out["resource"]["aws_security_group"].values()
    assert "ingress" not in group and "egress" not in group


def test_gateway_endpoints_route_s3_and_dynamodb_from_the_given_tables(out):
    gateways = endpoints(out, "Gateway")
    assert set(gateways) == {"com.amazonaws.us-west-2.s3", "com.amazonaws.us-west-2.dynamodb"}
    assert all(e["route_table_ids"] == ["rtb-a", "rtb-b"] for e in gateways.values())


def test_interface_endpoints_have_private_dns_in_every_subnet_behind_the_group(out):
    interfaces = endpoints(out, "Interface")
    assert set(interfaces) == {f"com.amazonaws.us-west-2.{s}" for s in ("ecr.api", "ecr.dkr", "sts", "logs")}
    (group_id,) = out["resource"]["aws_security_group"]
    for endpoint in interfaces.values():
        assert endpoint["private_dns_enabled"] is True
        assert endpoint["subnet_ids"] == ["subnet-a", "subnet-b"]
        assert endpoint["security_group_ids"] == [f"${{aws_security_group.{group_id}.id}}"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"gateway_services": ("ecr.api",)}, "gateway_services must be among \\['dynamodb', 's3'\\], got 'ecr.api'"),
        ({"interface_services": ("ECR API",)}, "interface service names look like 'ecr.api', got 'ECR API'"),
        ({"interface_services": ("sts", "sts")}, "interface_services must be distinct, got \\('sts', 'sts'\\)"),
        ({"subnet_ids": ()}, "subnet_ids are required for interface endpoints, got \\(\\)"),
        ({"gateway_route_table_ids": ()}, "gateway_route_table_ids are required for gateway endpoints, got \\(\\)"),
    ],
)
def test_bad_props_are_refused_with_the_value(change, message):
    with pytest.raises(ValidationError, match=f"VpcEndpoints endpoints: {message}"):
        build(replace(PROPS, **change))

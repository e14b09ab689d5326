"""Networking: the VPC's isolation, egress and logging invariants, on synthesized JSON."""

from __future__ import annotations

import ipaddress
import json

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib import tagging
from constructs_lib.errors import ValidationError
from constructs_lib.naming import Naming
from constructs_lib.networking.vpc_network import Networking, NetworkingProps, SubnetPrefixLengths
from constructs_lib.providers import aws

KEY = "arn:aws:kms:us-west-2:111111111111:key/logs"
REGION = "us-west-2"
AZS3 = ("us-west-2a", "us-west-2b", "us-west-2c")
VPC_CIDR = "10.30.0.0/16"


def props(**overrides) -> NetworkingProps:
    values = dict(
        naming=Naming("sophia", "test"),
        vpc_cidr=VPC_CIDR,
        region=REGION,
        availability_zones=AZS3,
        flow_log_kms_key_arn=KEY,
    )
    values.update(overrides)
    return NetworkingProps(**values)


def synth(p: NetworkingProps) -> dict:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    aws.provider.AwsProvider(stack, "aws", region=REGION)
    tagging.apply(stack, "unset")
    Networking(stack, "network", p)
    return json.loads(CdktfTesting.synth(stack))


def resources(doc: dict, type_: str) -> dict[str, dict]:
    return doc["resource"].get(type_, {})


def ref(type_: str, logical_id: str, attribute: str = "id") -> str:
    return f"${{{type_}.{logical_id}.{attribute}}}"


def subnets_by_tier(doc: dict) -> dict[str, list[dict]]:
    tiers: dict[str, list[dict]] = {"public": [], "private": [], "database": []}
    for subnet in resources(doc, "aws_subnet").values():
        tier = subnet["tags"]["Name"].split("-")[2]
        tiers[tier].append(subnet)
    return tiers


@pytest.fixture(scope="module")
def per_az() -> dict:
    return synth(props(nat_strategy="one_per_az", flow_log_aggregation_interval=60, flow_log_retention_days=90))


@pytest.fixture(scope="module")
def single() -> dict:
    return synth(props(nat_strategy="single", availability_zones=AZS3[:2], vpc_cidr="10.10.0.0/16"))


@pytest.fixture(scope="module")
def no_nat() -> dict:
    return synth(props(nat_strategy="none", interface_endpoints=(), gateway_endpoints=()))


# --- subnets ----------------------------------------------------------------------


def test_no_subnet_assigns_public_ips(per_az, single, no_nat):
    for doc in (per_az, single, no_nat):
        subnets = resources(doc, "aws_subnet").values()
        assert subnets
        assert all(s["map_public_ip_on_launch"] is False for s in subnets)


def test_each_tier_has_one_subnet_per_az(per_az, single):
    for doc, azs in ((per_az, AZS3), (single, AZS3[:2])):
        for tier, subnets in subnets_by_tier(doc).items():
            assert sorted(s["availability_zone"] for s in subnets) == list(azs), tier


def test_subnets_lie_in_the_vpc_and_do_not_overlap(per_az):
    vpc = ipaddress.ip_network(VPC_CIDR)
    nets = [ipaddress.ip_network(s["cidr_block"]) for s in resources(per_az, "aws_subnet").values()]
    assert len(nets) == 9
    assert all(n.subnet_of(vpc) for n in nets)
    for i, a in enumerate(nets):
        for b in nets[i + 1 :]:
            assert not a.overlaps(b), (a, b)


def test_subnet_sizes_follow_the_prefix_lengths():
    doc = synth(props(subnet_prefix_lengths=SubnetPrefixLengths(public=26, private=19, database=27)))
    sizes = {tier: {ipaddress.ip_network(s["cidr_block"]).prefixlen for s in subnets} for tier, subnets in subnets_by_tier(doc).items()}
    assert sizes == {"public": {26}, "private": {19}, "database": {27}}


def test_eks_load_balancer_tags(per_az):
    tiers = subnets_by_tier(per_az)
    assert all(s["tags"]["kubernetes.io/role/elb"] == "1" for s in tiers["public"])
    assert all(s["tags"]["kubernetes.io/role/internal-elb"] == "1" for s in tiers["private"])
    assert not any(k.startswith("kubernetes.io/") for s in tiers["database"] for k in s["tags"])


def test_vpc_has_dns_support_and_hostnames(per_az):
    (vpc,) = resources(per_az, "aws_vpc").values()
    assert vpc["cidr_block"] == VPC_CIDR
    assert vpc["enable_dns_support"] is True and vpc["enable_dns_hostnames"] is True


# --- NAT and routes ---------------------------------------------------------------


def default_routes(doc: dict) -> list[dict]:
    return [r for r in resources(doc, "aws_route").values() if r["destination_cidr_block"] == "0.0.0.0/0"]


def test_one_nat_per_az_each_in_its_own_public_subnet(per_az):
    nats = resources(per_az, "aws_nat_gateway")
    assert len(nats) == 3
    assert len({n["subnet_id"] for n in nats.values()}) == 3
    public_ids = {ref("aws_subnet", k) for k, s in resources(per_az, "aws_subnet").items() if "-public-" in s["tags"]["Name"]}
    assert {n["subnet_id"] for n in nats.values()} == public_ids
    assert len(resources(per_az, "aws_eip")) == 3
    assert all(e["domain"] == "vpc" for e in resources(per_az, "aws_eip").values())
    # Each private route table routes to a different NAT gateway.
    nat_routes = [r for r in default_routes(per_az) if "nat_gateway_id" in r]
    assert len(nat_routes) == 3
    assert len({r["nat_gateway_id"] for r in nat_routes}) == 3
    assert len({r["route_table_id"] for r in nat_routes}) == 3


def test_single_nat_serves_every_private_route_table(single):
    assert len(resources(single, "aws_nat_gateway")) == 1
    nat_routes = [r for r in default_routes(single) if "nat_gateway_id" in r]
    assert len(nat_routes) == 2
    assert len({r["nat_gateway_id"] for r in nat_routes}) == 1


def test_no_nat_means_no_internet_route_from_private_subnets(no_nat):
    assert not resources(no_nat, "aws_nat_gateway")
    assert not resources(no_nat, "aws_eip")
    assert [r for r in default_routes(no_nat) if "gateway_id" not in r] == []


def test_nat_waits_for_the_internet_gateway(per_az):
    for nat in resources(per_az, "aws_nat_gateway").values():
        assert any(d.startswith("aws_internet_gateway.") for d in nat["depends_on"])


def test_only_the_public_route_table_reaches_the_internet_gateway(per_az):
    igw_routes = [r for r in default_routes(per_az) if "gateway_id" in r]
    assert len(igw_routes) == 1
    public_rt = next(k for k, t in resources(per_az, "aws_route_table").items() if "-public-rt-" in t["tags"]["Name"])
    assert igw_routes[0]["route_table_id"] == ref("aws_route_table", public_rt)


def test_database_tier_is_isolated(per_az):
    tables = resources(per_az, "aws_route_table")
    db_tables = {ref("aws_route_table", k) for k, t in tables.items() if "-database-rt-" in t["tags"]["Name"]}
    assert len(db_tables) == 1
    assert not [r for r in resources(per_az, "aws_route").values() if r["route_table_id"] in db_tables]
    # and no gateway endpoint adds a route out of it
    for endpoint in resources(per_az, "aws_vpc_endpoint").values():
        assert not set(endpoint.get("route_table_ids", [])) & db_tables
    acls = resources(per_az, "aws_network_acl")
    db_acl = next(k for k, a in acls.items() if "-database-nacl-" in a["tags"]["Name"])
    rules = [r for r in resources(per_az, "aws_network_acl_rule").values() if r["network_acl_id"] == ref("aws_network_acl", db_acl)]
    assert {r["egress"] for r in rules} == {True, False}
    assert {r["cidr_block"] for r in rules} == {VPC_CIDR}


def test_every_subnet_has_its_tier_route_table_and_acl(per_az):
    subnet_ids = {ref("aws_subnet", k) for k in resources(per_az, "aws_subnet")}
    associated = [a["subnet_id"] for a in resources(per_az, "aws_route_table_association").values()]
    assert sorted(associated) == sorted(subnet_ids)
    in_acls = [s for acl in resources(per_az, "aws_network_acl").values() for s in acl["subnet_ids"]]
    assert sorted(in_acls) == sorted(subnet_ids)


# --- defaults locked down ---------------------------------------------------------


def test_default_security_group_has_no_rules(per_az):
    (sg,) = resources(per_az, "aws_default_security_group").values()
    assert sg["ingress"] == [] and sg["egress"] == []


def test_default_route_table_and_acl_have_no_routes_or_rules(per_az):
    (rt,) = resources(per_az, "aws_default_route_table").values()
    assert rt["route"] == []
    (acl,) = resources(per_az, "aws_default_network_acl").values()
    assert "ingress" not in acl and "egress" not in acl
    assert acl["lifecycle"]["ignore_changes"] == ["subnet_ids"]


# --- flow logs --------------------------------------------------------------------


def test_flow_logs_capture_all_traffic_into_an_encrypted_retained_group(per_az):
    (flow_log,) = resources(per_az, "aws_flow_log").values()
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["max_aggregation_interval"] == 60
    assert flow_log["log_destination_type"] == "cloud-watch-logs"
    (group,) = resources(per_az, "aws_cloudwatch_log_group").values()
    assert group["kms_key_id"] == KEY
    assert group["retention_in_days"] == 90


def test_flow_log_role_trust_has_confused_deputy_conditions(per_az):
    docs = per_az["data"]["aws_iam_policy_document"]
    trust = next(d for k, d in docs.items() if "flow-logs_role_trust" in k)
    (statement,) = trust["statement"]
    assert statement["principals"] == [{"type": "Service", "identifiers": ["vpc-flow-logs.amazonaws.com"]}]
    conditions = {c["variable"]: c for c in statement["condition"]}
    assert conditions["aws:SourceAccount"]["test"] == "StringEquals"
    assert conditions["aws:SourceArn"]["test"] == "ArnLike"
    assert conditions["aws:SourceArn"]["values"][0].endswith(":vpc-flow-log/*")


def test_flow_log_role_writes_only_its_own_log_group(per_az):
    docs = per_az["data"]["aws_iam_policy_document"]
    policy = next(d for k, d in docs.items() if "policy-deliver-flow-logs" in k)
    (group_id,) = resources(per_az, "aws_cloudwatch_log_group")
    group_arn = ref("aws_cloudwatch_log_group", group_id, "arn")
    write = next(s for s in policy["statement"] if s["sid"] == "WriteOwnLogGroup")
    assert write["resources"] == [group_arn, f"{group_arn}:*"]
    assert all("*" != a and not a.endswith(":*") for s in policy["statement"] for a in s["actions"])


# --- endpoints --------------------------------------------------------------------


def test_gateway_endpoints_on_private_route_tables(per_az):
    endpoints = resources(per_az, "aws_vpc_endpoint").values()
    gateways = {e["service_name"]: e for e in endpoints if e["vpc_endpoint_type"] == "Gateway"}
    assert set(gateways) == {"com.amazonaws.us-west-2.s3", "com.amazonaws.us-west-2.dynamodb"}
    private_rts = {ref("aws_route_table", k) for k, t in resources(per_az, "aws_route_table").items() if "-private-rt-" in t["tags"]["Name"]}
    for endpoint in gateways.values():
        assert set(endpoint["route_table_ids"]) == private_rts


def test_interface_endpoints_have_private_dns_and_the_endpoint_sg(per_az):
    endpoints = [e for e in resources(per_az, "aws_vpc_endpoint").values() if e["vpc_endpoint_type"] == "Interface"]
    assert sorted(e["service_name"].removeprefix("com.amazonaws.us-west-2.") for e in endpoints) == ["ecr.api", "ecr.dkr", "logs", "sts"]
    (sg_id,) = resources(per_az, "aws_security_group")
    for endpoint in endpoints:
        assert endpoint["private_dns_enabled"] is True
        assert endpoint["security_group_ids"] == [ref("aws_security_group", sg_id)]
        assert len(endpoint["subnet_ids"]) == 3


def test_endpoint_security_group_admits_https_from_the_vpc_only(per_az):
    (sg_id, sg) = next(iter(resources(per_az, "aws_security_group").items()))
    assert "ingress" not in sg and "egress" not in sg
    rules = list(resources(per_az, "aws_vpc_security_group_ingress_rule").values())
    assert [(r["ip_protocol"], r["from_port"], r["to_port"], r["cidr_ipv4"]) for r in rules] == [("tcp", 443, 443, VPC_CIDR)]
    assert rules[0]["security_group_id"] == ref("aws_security_group", sg_id)
    assert not resources(per_az, "aws_vpc_security_group_egress_rule")


def test_every_resource_is_tagged_networking(per_az):
    for type_, items in per_az["resource"].items():
        for item in items.values():
            if "tags" in item:
                assert item["tags"]["Component"] == "networking", type_


# --- validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"availability_zones": ("us-east-1a",)}, "'us-east-1a'"),
        ({"availability_zones": ("us-west-2a", "us-west-2a")}, "distinct"),
        ({"availability_zones": ()}, "non-empty"),
        ({"nat_strategy": "two"}, "'two'"),
        ({"flow_log_kms_key_arn": ""}, "flow_log_kms_key_arn is required"),
        (
            {"vpc_cidr": "10.0.0.0/24", "subnet_prefix_lengths": SubnetPrefixLengths(26, 26, 26)},
            "'10.0.0.0/24' (256 addresses) is too small for 3 tiers × 3 AZs",
        ),
        ({"vpc_cidr": "10.0.0.0/24"}, "private subnet prefix length must be between the VPC's /24 and /28, got /20"),
        ({"flow_log_retention_days": 42}, "got 42"),
        ({"flow_log_aggregation_interval": 120}, "got 120"),
        ({"gateway_endpoints": ("sqs",)}, "'sqs'"),
    ],
)
def test_bad_arguments_are_rejected_with_the_value(overrides, message):
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(ValidationError) as info:
        Networking(stack, "network", props(**overrides))
    assert message in str(info.value)


# --- the synthesized stacks -------------------------------------------------------


@pytest.mark.parametrize(("env", "nats", "azs"), [("dev", 1, 2), ("staging", 1, 3), ("production", 3, 3)])
def test_networking_stack_follows_the_environment_config(stack_json, env, nats, azs):
    stack = stack_json(f"networking-{env}")
    assert len(stack["resource"]["aws_nat_gateway"]) == nats
    assert len(stack["resource"]["aws_subnet"]) == 3 * azs
    (group,) = stack["resource"]["aws_cloudwatch_log_group"].values()
    # the security stack's "logs" key, read through a cross-stack reference
    assert group["kms_key_id"].startswith(f"${{data.terraform_remote_state.cross-stack-reference-input-security-{env}.")
    for name in (
        "vpc_id",
        "vpc_cidr",
        "public_subnet_ids",
        "private_subnet_ids",
        "database_subnet_ids",
        "public_route_table_ids",
        "private_route_table_ids",
        "database_route_table_ids",
        "endpoint_security_group_id",
    ):
        assert stack["output"][name]["description"], name


def test_nat_public_ips_are_the_eips():
    app = CdktfTesting.app()
    stack = TerraformStack(app, "ips")
    network = Networking(stack, "network", props(nat_strategy="one_per_az"))
    assert len(network.nat_public_ips) == 3 and network.availability_zones == AZS3
    assert Networking(TerraformStack(app, "none"), "network", props(nat_strategy="none")).nat_public_ips == []


def test_reserved_az_slots_reach_the_subnets():
    app = CdktfTesting.app()
    network = Networking(TerraformStack(app, "slots"), "network", props(az_slots=4))
    assert network.subnet_cidrs["private"] == ("10.30.0.0/20", "10.30.16.0/20", "10.30.32.0/20")
    assert network.subnet_cidrs["public"][0] == "10.30.64.0/24"  # after four /20 slots

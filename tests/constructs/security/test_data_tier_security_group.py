"""DataTierSecurityGroup: the data tier admits only the listed security groups, on one port, in isolation."""

from __future__ import annotations

import dataclasses
import json

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.errors import ValidationError
from constructs_lib.security.data_tier_security_group import DataTierSecurityGroup, DataTierSecurityGroupProps

APP_SG = "sg-0123456789abcdef0"


def sg_props(**changes) -> DataTierSecurityGroupProps:
    base = DataTierSecurityGroupProps(
        name="sophia-data-postgres-sg-dev",
        description="PostgreSQL blue/green",
        vpc_id="vpc-0123456789abcdef0",
        port=5432,
        source_security_group_ids=(APP_SG,),
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture(scope="module")
def security_group() -> dict:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    DataTierSecurityGroup(stack, "sg", sg_props(source_security_group_ids=(APP_SG, "sg-0fedcba9876543210")))
    return json.loads(CdktfTesting.synth(stack))


def test_security_group_admits_only_source_groups_on_the_data_port(security_group):
    rules = list(security_group["resource"]["aws_vpc_security_group_ingress_rule"].values())
    assert len(rules) == 2
    for rule in rules:
        assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (5432, 5432, "tcp")
        assert rule["referenced_security_group_id"] in (APP_SG, "sg-0fedcba9876543210")
        assert not {"cidr_ipv4", "cidr_ipv6", "prefix_list_id"} & set(rule)


def test_no_security_group_admits_the_internet(security_group):
    group = next(iter(security_group["resource"]["aws_security_group"].values()))
    # No inline rules at all (and no egress): everything is in the rule resources above.
    assert "ingress" not in group and "egress" not in group
    assert "aws_vpc_security_group_egress_rule" not in security_group["resource"]
    assert "0.0.0.0/0" not in json.dumps(security_group)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"source_security_group_ids": ("0.0.0.0/0",)}, "never CIDR blocks, got '0.0.0.0/0'"),
        ({"source_security_group_ids": ("10.0.0.0/8",)}, "never CIDR blocks, got '10.0.0.0/8'"),
        ({"source_security_group_ids": ("::/0",)}, "never CIDR blocks, got '::/0'"),
        ({"source_security_group_ids": ()}, "at least one security group"),
        ({"source_security_group_ids": ("web-tier",)}, "must be 'sg-...' ids, got 'web-tier'"),
        ({"source_security_group_ids": (APP_SG, APP_SG)}, "must be unique"),
        ({"port": 0}, "port must be 1..65535, got 0"),
    ],
)
def test_security_group_validation(changes, message):
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(ValidationError) as exc:
        DataTierSecurityGroup(stack, "sg", sg_props(**changes))
    assert message in str(exc.value)

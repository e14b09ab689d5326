"""``constructs_lib.security.facts``: exposure judged on address space, broad managed
policies, data resource types — the one home the guards, IAM constructs and review share."""

from __future__ import annotations

import pytest

from constructs_lib.security import facts


@pytest.mark.parametrize(
    ("sources", "too_broad"),
    [
        (["0.0.0.0/0"], True),
        (["::/0"], True),
        (["0.0.0.0/1"], True),  # half of the internet, spelled so that no string matches
        (["128.0.0.0/1"], True),
        (["44.0.0.0/8"], True),
        (["203.0.114.0/23"], True),  # 512 public addresses: over the /24 bound
        (["203.0.114.0/24"], False),  # one /24: a named partner or office network
        (["198.51.100.7/32"], False),
        (["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"], False),  # private, CGNAT
        (["224.0.0.0/3"], False),  # multicast and reserved space is not public
        (["fd00::/8", "fe80::/10"], False),  # unique-local and link-local
        (["2a00:1450::/48"], False),
        (["2a00:1450::/47"], True),
        (["2001:db8::/32"], False),  # documentation
        (["${aws_vpc.main.cidr_block}"], False),  # a reference: not judged here
    ],
)
def test_exposure_is_judged_on_public_address_space(sources, too_broad):
    assert facts.exposure(sources).too_broad is too_broad


def test_the_union_of_sources_counts_not_each_string():
    halves = facts.exposure(["0.0.0.0/1", "128.0.0.0/1"])
    assert halves.public_ipv4 == facts.exposure(["0.0.0.0/0"]).public_ipv4
    two_slash_24 = facts.exposure(["203.0.114.0/24", "203.0.115.0/24"])
    assert two_slash_24.public_ipv4 == 512 and two_slash_24.too_broad
    overlapping = facts.exposure(["203.0.114.0/24", "203.0.114.128/25"])
    assert overlapping.public_ipv4 == 256 and not overlapping.too_broad


def test_a_group_whose_rules_together_exceed_the_bound_is_found():
    rules = {
        f"office-{i}": {"security_group_id": "${aws_security_group.db.id}", "cidr_ipv4": f"44.{i}.0.0/24", "ip_protocol": "tcp", "from_port": 5432, "to_port": 5432}
        for i in range(2)
    }
    (finding,) = facts.ingress_findings({"aws_vpc_security_group_ingress_rule": rules})
    assert finding.address == "aws_security_group.db"
    assert finding.description == "2 rules together from 44.0.0.0/24, 44.1.0.0/24"
    # One of them alone is within the bound.
    assert facts.ingress_findings({"aws_vpc_security_group_ingress_rule": {"office-0": rules["office-0"]}}) == []


def test_each_broad_inline_rule_is_its_own_finding():
    group = {"ingress": [
        {"from_port": 5432, "to_port": 5432, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/1"]},
        {"from_port": 5432, "to_port": 5432, "protocol": "tcp", "cidr_blocks": ["128.0.0.0/1"]},
        {"from_port": 5432, "to_port": 5432, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"], "ipv6_cidr_blocks": []},
    ]}  # fmt: skip
    found = facts.ingress_findings({"aws_security_group": {"db": group}})
    assert [f.description for f in found] == ["tcp 5432-5432 from 0.0.0.0/1", "tcp 5432-5432 from 128.0.0.0/1"]


def test_the_guards_and_the_review_find_the_same_open_rules():
    from constructs_lib.guard_rules import StackJudge

    open_rule = {"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/1", "128.0.0.0/1"]}
    resources = {
        "aws_security_group": {
            "web": {"ingress": [open_rule]},
            "db": {"ingress": {"from_port": 5432, "to_port": 5432, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"]}},
        },
        "aws_security_group_rule": {
            "ssh": {**open_rule, "type": "ingress", "security_group_id": "${aws_security_group.db.id}"},
            "out": {**open_rule, "type": "egress", "security_group_id": "${aws_security_group.db.id}"},
            "peer": {**open_rule, "type": "ingress", "cidr_blocks": "${data.x.cidrs}", "security_group_id": "sg-1"},
        },
        "aws_vpc_security_group_ingress_rule": {
            "v6": {"cidr_ipv6": "::/0", "ip_protocol": "tcp", "from_port": 443, "to_port": 443, "security_group_id": "sg-2"},
        },
    }
    judge = StackJudge(False, {}, {})
    for rtype, items in resources.items():
        for name, body in items.items():
            judge.resource(rtype, name, body)
    # Without construct metadata a violation's path is the resource's address.
    guarded = {v.path for v in judge.finish() if v.rule == "public-ingress"}
    reviewed = {f.address for f in facts.ingress_findings(resources)}
    assert guarded == reviewed == {
        "aws_security_group.web", "aws_security_group_rule.ssh", "aws_vpc_security_group_ingress_rule.v6"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("arn", "broad"),
    [
        ("arn:aws:iam::aws:policy/AdministratorAccess", True),
        ("arn:aws:iam::aws:policy/job-function/AdministratorAccess", True),
        ("arn:aws:iam::aws:policy/PowerUserAccess", True),
        ("arn:aws:iam::aws:policy/IAMFullAccess", True),
        ("arn:aws:iam::aws:policy/AmazonS3FullAccess", True),
        ("arn:aws-us-gov:iam::aws:policy/AmazonEC2FullAccess", True),
        ("arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", False),
        ("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", False),
        ("arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy", False),
        (None, False),
    ],
)
def test_broad_managed_policies_are_one_definition(arn, broad):
    assert facts.is_broad_managed_policy(arn) is broad


def test_the_review_and_the_library_share_the_facts():
    from sophia_infra.review import aws_facts

    assert aws_facts.STATEFUL_TYPES is facts.DATA_RESOURCE_TYPES
    assert not hasattr(aws_facts, "OPEN_CIDRS") and not hasattr(aws_facts, "BROAD_MANAGED_POLICY")

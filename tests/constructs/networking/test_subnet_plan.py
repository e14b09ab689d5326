"""Subnet CIDRs derived from the VPC CIDR, and the configuration errors when they do not fit."""

from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path

import pytest

import sophia_config as config
from constructs_lib.errors import ValidationError
from constructs_lib.networking.subnet_plan import TIERS, SubnetPlanError, SubnetPrefixLengths, plan_subnets
from sophia_config import ConfigError
from tests.conftest import ROOT, dump_yaml, load_yaml

PREFIXES = SubnetPrefixLengths(public=24, private=20, database=24)


def test_plan_is_aligned_disjoint_and_inside_the_vpc():
    for cidr, azs in (("10.0.0.0/16", 3), ("10.0.0.0/16", 6), ("172.16.0.0/17", 4)):
        vpc = ipaddress.ip_network(cidr)
        plan = plan_subnets(cidr, azs, PREFIXES)
        nets = [ipaddress.ip_network(c, strict=True) for cidrs in plan.values() for c in cidrs]
        assert len(nets) == 3 * azs
        assert all(n.subnet_of(vpc) for n in nets)
        assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
        assert {tier: {ipaddress.ip_network(c).prefixlen for c in cidrs} for tier, cidrs in plan.items()} == {
            tier: {getattr(PREFIXES, tier)} for tier in TIERS
        }


def test_plan_is_deterministic_and_largest_first():
    plan = plan_subnets("10.30.0.0/16", 3, PREFIXES)
    assert plan == plan_subnets("10.30.0.0/16", 3, PREFIXES)
    assert plan["private"] == ("10.30.0.0/20", "10.30.16.0/20", "10.30.32.0/20")
    assert plan["public"] == ("10.30.48.0/24", "10.30.49.0/24", "10.30.50.0/24")
    assert plan["database"] == ("10.30.51.0/24", "10.30.52.0/24", "10.30.53.0/24")


def test_exact_fit_is_accepted_and_one_address_short_is_not():
    # 3 × (/26 + /26 + /26) = 576 addresses: no /23 (512) holds them, a /22 (1024) does.
    small = SubnetPrefixLengths(26, 26, 26)
    plan_subnets("10.0.0.0/22", 3, small)
    with pytest.raises(SubnetPlanError, match=r"'10\.0\.0\.0/23' \(512 addresses\) is too small for 3 tiers × 3 AZs.*need 576"):
        plan_subnets("10.0.0.0/23", 3, small)
    # 2 × (/27 + /26 + /27) fill a /24 exactly.
    exact = plan_subnets("10.0.0.0/24", 2, SubnetPrefixLengths(public=27, private=26, database=27))
    assert sum(ipaddress.ip_network(c).num_addresses for cs in exact.values() for c in cs) == 256


def test_prefix_shorter_than_the_vpcs_is_refused_by_the_plan():
    with pytest.raises(SubnetPlanError, match="private subnet prefix length must be between the VPC's /18 and /28, got /17"):
        plan_subnets("10.0.0.0/18", 1, SubnetPrefixLengths(private=17))


@pytest.mark.parametrize("tier, length", [("private", 15), ("public", 29)])
def test_prefix_outside_what_aws_allows_is_refused_by_the_value(tier, length):
    with pytest.raises(ValidationError, match=f"SubnetPrefixLengths: {tier} must be an integer 16..28, got {length}"):
        SubnetPrefixLengths(**{tier: length})


def test_prefix_lengths_name_exactly_the_tiers():
    assert tuple(SubnetPrefixLengths.__dataclass_fields__) == TIERS


# --- the same rule at configuration load time -------------------------------------


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    return target


def edit_network(config_dir: Path, env: str, **values) -> Path:
    path = config_dir / f"{env}.yaml"
    data = load_yaml(path.read_text())
    data["network"].update(values)
    path.write_text(dump_yaml(data, sort_keys=False))
    return path


def rejected(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as info:
        config.load(config_dir)
    return str(info.value)


def test_committed_networks_fit_and_can_grow_to_their_reserved_slots():
    environments = config.load(ROOT / "config").environments
    assert environments
    for env in environments:
        net = env.config.network
        vpc = ipaddress.ip_network(net.vpc_cidr)
        plan = plan_subnets(net.vpc_cidr, net.az_count, net.subnet_prefix_lengths, net.az_slots)
        subnets = [ipaddress.ip_network(cidr) for cidrs in plan.values() for cidr in cidrs]
        assert len(subnets) == len(TIERS) * net.az_count, env.name
        assert all(subnet.subnet_of(vpc) for subnet in subnets), env.name
        assert all(not a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :]), env.name
        for tier in TIERS:
            lengths = {ipaddress.ip_network(cidr).prefixlen for cidr in plan[tier]}
            assert lengths == {getattr(net.subnet_prefix_lengths, tier)}, (env.name, tier)
        # The reserve is real: growing to az_slots AZs fits and moves no existing subnet.
        grown = plan_subnets(net.vpc_cidr, net.az_slots, net.subnet_prefix_lengths, net.az_slots)
        assert all(grown[tier][: net.az_count] == plan[tier] for tier in TIERS), env.name


def test_too_small_vpc_cidr_names_file_field_and_value(config_dir):
    path = edit_network(config_dir, "production", vpc_cidr="10.30.0.0/20")
    message = rejected(config_dir)
    assert f"{path}: network: vpc_cidr / subnet_prefix_lengths:" in message
    assert "'10.30.0.0/20' (4096 addresses) is too small for 3 tiers × 4 AZ slots (3 used)" in message
    assert "need 18432 addresses" in message


def test_az_suffixes_must_match_az_count(config_dir):
    path = edit_network(config_dir, "staging", availability_zone_suffixes=["a", "b"])
    message = rejected(config_dir)
    assert f"{path}: network: availability_zone_suffixes must list exactly az_count=3 zones, got ['a', 'b']" in message


def test_az_suffixes_must_be_distinct_letters(config_dir):
    edit_network(config_dir, "dev", availability_zone_suffixes=["a", "a"])
    assert "must be distinct, got ['a', 'a']" in rejected(config_dir)
    edit_network(config_dir, "dev", availability_zone_suffixes=["a", "us-west-2b"])
    assert "network.availability_zone_suffixes.1" in rejected(config_dir)


def test_flow_log_interval_is_60_or_600(config_dir):
    edit_network(config_dir, "dev", flow_log_aggregation_interval=300)
    assert "network.flow_log_aggregation_interval" in rejected(config_dir)


def test_subnet_prefix_outside_aws_range(config_dir):
    path = edit_network(config_dir, "dev", subnet_prefix_lengths={"public": 24, "private": 20, "database": 29})
    message = rejected(config_dir)
    assert f"{path}: network.subnet_prefix_lengths.database: Input should be less than or equal to 28 (value 29)" in message


def test_subnet_prefix_lengths_take_the_librarys_defaults(config_dir):
    edit_network(config_dir, "dev", subnet_prefix_lengths={"private": 19})
    loaded = config.load(config_dir).environment("dev").config.network.subnet_prefix_lengths
    assert loaded == SubnetPrefixLengths(public=24, private=19, database=24)


def test_a_single_az_is_refused(config_dir):
    # EKS and RDS subnet groups need two AZs: fail at load, not minutes into an apply.
    edit_network(config_dir, "dev", az_count=1, availability_zone_suffixes=["a"])
    message = rejected(config_dir)
    assert "dev.yaml: network.az_count: Input should be greater than or equal to 2 (value 1)" in message


def test_reserved_slots_keep_existing_subnets_when_azs_are_added():
    before = plan_subnets("10.30.0.0/16", 3, PREFIXES, az_slots=4)
    after = plan_subnets("10.30.0.0/16", 4, PREFIXES, az_slots=4)
    for tier in TIERS:
        assert after[tier][:3] == before[tier], tier
    # without a reserve, the same change moves the smaller tiers
    assert plan_subnets("10.30.0.0/16", 4, PREFIXES)["public"][0] != plan_subnets("10.30.0.0/16", 3, PREFIXES)["public"][0]


def test_reserved_slots_count_towards_the_fit():
    small = SubnetPrefixLengths(26, 26, 26)
    plan_subnets("10.0.0.0/22", 3, small, az_slots=5)  # 3 × 5 × 64 = 960 <= 1024
    with pytest.raises(SubnetPlanError, match=r"3 tiers × 6 AZ slots \(3 used\).*need 1152"):
        plan_subnets("10.0.0.0/22", 3, small, az_slots=6)
    with pytest.raises(SubnetPlanError, match="az_slots must be >= az_count=3, got 2"):
        plan_subnets("10.0.0.0/16", 3, PREFIXES, az_slots=2)


def test_az_slots_below_az_count_is_a_config_error(config_dir):
    path = edit_network(config_dir, "production", az_slots=2)
    assert f"{path}: network: az_slots must be >= az_count=3, got 2" in rejected(config_dir)

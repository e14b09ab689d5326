"""Project-wide invariants of storage and the data tier, on the synthesized app (every stack, every environment)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sophia_config as config
from constructs_lib.security import facts
from tests.conftest import ROOT, load_stack

DATA_PORTS = {5432, 3306, 6379, 9200, 27017, 443}
PAB_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
APP = config.load(ROOT / "config")


def all_stacks(outdir: Path) -> dict[str, dict]:
    return {p.parent.name: load_stack(outdir, p.parent.name) for p in sorted((outdir / "stacks").glob("*/cdk.tf.json"))}


@pytest.fixture(scope="module")
def stacks(synth_outdir) -> dict[str, dict]:
    return all_stacks(synth_outdir)


def resources(stack: dict, resource_type: str) -> dict[str, dict]:
    return stack.get("resource", {}).get(resource_type, {})


def test_every_bucket_is_locked_down(stacks):
    """No bucket escapes SecureBucket: each has a full public-access block, ACLs off, SSE, a TLS-only policy."""
    seen = 0
    for name, stack in stacks.items():
        buckets = resources(stack, "aws_s3_bucket")
        seen += len(buckets)
        for kind in (
            "aws_s3_bucket_public_access_block",
            "aws_s3_bucket_ownership_controls",
            "aws_s3_bucket_server_side_encryption_configuration",
            "aws_s3_bucket_policy",
            "aws_s3_bucket_versioning",
        ):
            assert len(resources(stack, kind)) == len(buckets), f"{name}: {kind}"
        for block in resources(stack, "aws_s3_bucket_public_access_block").values():
            assert all(block[flag] is True for flag in PAB_FLAGS), name
        for controls in resources(stack, "aws_s3_bucket_ownership_controls").values():
            assert controls["rule"]["object_ownership"] == "BucketOwnerEnforced", name
        for policy in resources(stack, "aws_s3_bucket_policy").values():
            assert any("public_access_block" in dep for dep in policy["depends_on"]), name
        for lifecycle in resources(stack, "aws_s3_bucket_lifecycle_configuration").values():
            assert any("versioning" in dep for dep in lifecycle["depends_on"]), name
            assert all(rule.get("filter") for rule in lifecycle["rule"]), name
        documents = json.dumps(stack.get("data", {}).get("aws_iam_policy_document", {}))
        if buckets:
            assert documents.count("DenyInsecureTransport") >= len(buckets), name
    assert seen >= len(APP.environments), "expected at least the AWS Config bucket of each environment"


def test_production_buckets_cannot_be_force_destroyed(stacks):
    for name, stack in stacks.items():
        if name.endswith("-production") or name == "state-bootstrap":
            for bucket in resources(stack, "aws_s3_bucket").values():
                assert bucket.get("force_destroy") is not True, f"{name}: {bucket['bucket']}"


def _ingress(stack: dict):
    for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values():
        yield rule.get("from_port"), rule.get("to_port"), {rule.get("cidr_ipv4"), rule.get("cidr_ipv6")}
    for rule in resources(stack, "aws_security_group_rule").values():
        if rule.get("type") == "ingress":
            yield (
                rule.get("from_port"),
                rule.get("to_port"),
                set(rule.get("cidr_blocks", [])) | set(rule.get("ipv6_cidr_blocks", [])),
            )
    for group in resources(stack, "aws_security_group").values():
        for rule in group.get("ingress", []) or []:
            yield (
                rule.get("from_port"),
                rule.get("to_port"),
                set(rule.get("cidr_blocks", [])) | set(rule.get("ipv6_cidr_blocks", [])),
            )


def test_no_security_group_admits_the_internet_on_a_data_port(stacks):
    for name, stack in stacks.items():
        for from_port, to_port, cidrs in _ingress(stack):
            # Judged on address space (0.0.0.0/1 + 128.0.0.0/1 is the internet too).
            if not facts.exposure(cidrs).too_broad:
                continue
            if from_port is None or to_port is None or from_port == -1:
                pytest.fail(f"{name}: all ports open to {sorted(cidrs)}")
            exposed = {port for port in DATA_PORTS if from_port <= port <= to_port}
            assert not exposed, f"{name}: ports {sorted(exposed)} open to {sorted(cidrs)}"


@pytest.mark.parametrize("environment", [env.name for env in APP.environments])
def test_only_the_configured_active_database_is_protected(stacks, environment):
    blue_green = APP.environment(environment).config.blue_green
    instances = resources(stacks[f"data-{environment}"], "aws_db_instance").values()
    protection = {i["identifier"].rsplit("-", 1)[1]: i["deletion_protection"] for i in instances}
    # Outside a switch the active colour is the only database the environment pays for.
    expected = {blue_green.active: True}
    if blue_green.standby == "provisioned":
        expected[blue_green.standby_colour] = False
    assert protection == expected
    for instance in instances:
        assert instance["storage_encrypted"] is True and instance["kms_key_id"].startswith("${")
        assert instance["publicly_accessible"] is False
        assert instance["multi_az"] is APP.environment(environment).config.resilience.multi_az


@pytest.mark.parametrize("environment", [env.name for env in APP.environments])
def test_database_security_group_admits_only_the_node_group(stacks, environment):
    rules = resources(stacks[f"data-{environment}"], "aws_vpc_security_group_ingress_rule").values()
    assert rules
    for rule in rules:
        assert rule["from_port"] == rule["to_port"] == 5432
        assert "referenced_security_group_id" in rule and "cidr_ipv4" not in rule
        assert "compute-" in rule["referenced_security_group_id"]


def test_one_config_recorder_per_account_and_region(stacks):
    owners: dict[tuple[str, str], list[str]] = {}
    for env in APP.environments:
        stack = stacks[f"shared-{env.name}"]
        if resources(stack, "aws_config_configuration_recorder"):
            owners.setdefault((env.config.aws.account_id, env.config.aws.region), []).append(env.name)
            status = next(iter(resources(stack, "aws_config_configuration_recorder_status").values()))
            assert status["depends_on"][0].startswith("aws_config_delivery_channel.")
    assert owners, "no environment records AWS Config"
    assert all(len(names) == 1 for names in owners.values()), owners


def test_alarm_topic_is_encrypted_in_every_environment(stacks):
    for env in APP.environments:
        topics = resources(stacks[f"shared-{env.name}"], "aws_sns_topic")
        alarm = [t for t in topics.values() if t["name"].endswith(f"alarms-{env.name}")]
        assert len(alarm) == 1 and alarm[0]["kms_master_key_id"].startswith("${")

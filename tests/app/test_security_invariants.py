"""Key and network invariants over every synthesized stack of the app, not only the
constructs in isolation: a key or VPC added anywhere later is held to the same rules."""

from __future__ import annotations

import re

import pytest

from tests.conftest import load_stack

_DATA_REF = re.compile(r"^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$")


@pytest.fixture(scope="module")
def stacks(synth_outdir) -> dict[str, dict]:
    names = sorted(p.name for p in (synth_outdir / "stacks").iterdir())
    return {name: load_stack(synth_outdir, name) for name in names}


def kms_keys(stacks):
    for stack_name, stack in stacks.items():
        for key_id, key in stack.get("resource", {}).get("aws_kms_key", {}).items():
            yield stack_name, stack, key_id, key


def test_every_kms_key_rotates(stacks):
    keys = list(kms_keys(stacks))
    assert len(keys) >= 16  # 5 per environment and the state key
    for stack_name, _, key_id, key in keys:
        assert key.get("enable_key_rotation") is True, (stack_name, key_id)
        assert key.get("deletion_window_in_days", 30) >= 7, (stack_name, key_id)


def test_every_key_policy_pins_services_to_the_account(stacks):
    checked = 0
    for stack_name, stack, key_id, key in kms_keys(stacks):
        match = _DATA_REF.match(key.get("policy", ""))
        assert match, f"{stack_name}/{key_id}: key policy must come from aws_iam_policy_document, got {key.get('policy')!r}"
        document = stack["data"]["aws_iam_policy_document"][match.group(1)]
        for statement in document["statement"]:
            principal_types = {p["type"] for p in statement.get("principals", [])}
            assert "*" not in principal_types, (stack_name, key_id, statement.get("sid"))
            if "Service" in principal_types:
                checked += 1
                conditions = {c["variable"]: c["values"] for c in statement.get("condition", [])}
                # Pinned by aws:SourceAccount, or (CloudWatch Logs, which documents no
                # SourceAccount) by the account inside the encryption-context ARN.
                context = conditions.get("kms:EncryptionContext:aws:logs:arn", [""])[0]
                assert "aws:SourceAccount" in conditions or "aws_caller_identity" in context, (
                    stack_name,
                    key_id,
                    statement.get("sid"),
                )
    assert checked >= 9  # logs + cloudwatch + sns in each environment


def test_every_vpc_locks_down_its_defaults_and_logs_its_flows(stacks):
    vpcs = 0
    for stack_name, stack in stacks.items():
        resources = stack.get("resource", {})
        count = len(resources.get("aws_vpc", {}))
        if not count:
            continue
        vpcs += count
        assert len(resources.get("aws_default_security_group", {})) == count, stack_name
        assert all(sg["ingress"] == [] and sg["egress"] == [] for sg in resources["aws_default_security_group"].values())
        assert len(resources.get("aws_flow_log", {})) == count, stack_name
        assert all(s["map_public_ip_on_launch"] is False for s in resources["aws_subnet"].values()), stack_name
    assert vpcs == 3


def test_no_security_group_admits_the_internet(stacks):
    # Interface endpoints, EKS and the data tier answer only inside the VPC; internet
    # traffic arrives through load balancers the cluster creates, not through these.
    open_world = {"0.0.0.0/0", "::/0"}
    for stack_name, stack in stacks.items():
        resources = stack.get("resource", {})
        for rule_id, rule in resources.get("aws_vpc_security_group_ingress_rule", {}).items():
            assert not {rule.get("cidr_ipv4"), rule.get("cidr_ipv6")} & open_world, (stack_name, rule_id)
        for rule_id, rule in resources.get("aws_security_group_rule", {}).items():
            if rule.get("type") == "ingress":
                cidrs = set(rule.get("cidr_blocks", [])) | set(rule.get("ipv6_cidr_blocks", []))
                assert not cidrs & open_world, (stack_name, rule_id)
        for group_id, group in resources.get("aws_security_group", {}).items():
            for rule in group.get("ingress", []):
                cidrs = set(rule.get("cidr_blocks", [])) | set(rule.get("ipv6_cidr_blocks", []))
                assert not cidrs & open_world, (stack_name, group_id)

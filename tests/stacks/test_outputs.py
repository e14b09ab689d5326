"""Stack outputs: declared once from a construct's attribute, each one documented."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from stacks.outputs import export

CROSS_STACK_PREFIX = "cross-stack-output-"  # cdktf's own outputs for remote-state reads


class RecordingStack:
    """Stands in for an EnvironmentStack: records what ``output`` is asked to declare."""

    def __init__(self):
        self.declared: list[tuple[str, object, str]] = []

    def output(self, name, value, description, sensitive=False):
        assert sensitive is False
        self.declared.append((name, value, description))


def test_export_names_each_output_after_the_attribute_it_reads():
    subnets = ["subnet-a", "subnet-b"]
    network = SimpleNamespace(vpc_id="vpc-1", private_subnet_ids=subnets, secret="not exported")
    stack = RecordingStack()
    export(stack, network, vpc_id="ID of the VPC", private_subnet_ids="Private subnets")
    assert stack.declared == [("vpc_id", "vpc-1", "ID of the VPC"), ("private_subnet_ids", subnets, "Private subnets")]
    # The construct's own value, not a copy.
    assert stack.declared[1][1] is subnets


def test_a_prefix_names_the_construct_in_the_stack():
    stack = RecordingStack()
    export(stack, SimpleNamespace(role_arn="arn:aws:iam::1:role/x"), prefix="deploy_", role_arn="Deploy role")
    assert stack.declared == [("deploy_role_arn", "arn:aws:iam::1:role/x", "Deploy role")]


def test_a_mistyped_attribute_fails_at_synthesis():
    with pytest.raises(AttributeError, match="vpc_idd"):
        export(RecordingStack(), SimpleNamespace(vpc_id="vpc-1"), vpc_idd="ID of the VPC")


def test_every_declared_output_of_every_stack_is_documented(synth_outdir):
    manifest = json.loads((synth_outdir / "manifest.json").read_text())
    undocumented, declared = [], 0
    for name, entry in sorted(manifest["stacks"].items()):
        document = json.loads((synth_outdir / entry["synthesizedStackPath"]).read_text())
        for output, body in document.get("output", {}).items():
            if output.startswith(CROSS_STACK_PREFIX):
                continue
            declared += 1
            if not body.get("description", "").strip():
                undocumented.append(f"{name}: {output}")
    assert declared > 50, "the app declares outputs in every stack"
    assert not undocumented, "outputs without a description:\n" + "\n".join(undocumented)

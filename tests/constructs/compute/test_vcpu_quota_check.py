"""VcpuQuotaCheck: which EC2 vCPU quota a node group draws on, how much it needs, and the
``check`` block that warns at plan time; and that every node group of every environment
has one."""

from __future__ import annotations

import re

import pytest

import sophia_config as config
from constructs_lib.compute.instance_types import INSTANCE_TYPES, UnknownInstanceType
from constructs_lib.compute.vcpu_quota_check import QUOTAS, VcpuQuotaCheck, VcpuQuotaCheckProps, quota_class
from constructs_lib.errors import ValidationError
from tests.conftest import ROOT
from tests.constructs.support import synth

APP = config.load(ROOT / "config")


def needs(**props) -> dict[str, int]:
    base = dict(node_group_name="ng", instance_types=("t3.medium",), capacity_type="ON_DEMAND", max_size=1)
    return {n.quota.code: n.vcpus for n in VcpuQuotaCheck.quota_needs("q", VcpuQuotaCheckProps(**(base | props)))}


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        # General nodes: Standard on-demand, max_size x vCPUs.
        (dict(instance_types=("t3.medium", "t3.large"), max_size=5), {"L-1216C47A": 10}),
        (dict(instance_types=("c5.2xlarge",), max_size=20), {"L-1216C47A": 160}),
        (dict(instance_types=("c5.large",), capacity_type="SPOT", max_size=3), {"L-34B43A08": 6}),
        # GPU nodes: G and VT; with several types, the largest decides (the autoscaler may launch it).
        (dict(instance_types=("g4dn.xlarge", "g5.xlarge", "g4dn.2xlarge"), capacity_type="SPOT", max_size=2), {"L-3819A6DF": 16}),
        (dict(instance_types=("g4dn.4xlarge",), max_size=10), {"L-DB2E81BA": 160}),
        # Types of two classes draw on two quotas.
        (dict(instance_types=("g5.xlarge", "c5.xlarge"), max_size=2), {"L-DB2E81BA": 8, "L-1216C47A": 8}),
    ],
)
def test_quota_and_vcpus_needed(props, expected):
    assert needs(**props) == expected


def test_quota_classes_come_from_the_family_letters():
    assert {quota_class(t) for t in ("t3.medium", "c5.large", "m6i.large", "r6g.xlarge")} == {"standard"}
    assert {quota_class(t) for t in ("g4dn.xlarge", "g5.2xlarge", "vt1.3xlarge")} == {"g-and-vt"}
    # inf (Inferentia), dl and p have quotas of their own, not Standard's nor G's.
    for instance_type in ("p4d.24xlarge", "inf2.xlarge", "dl1.24xlarge", "x2idn.16xlarge"):
        with pytest.raises(ValidationError, match="no EC2 vCPU quota is known"):
            quota_class(instance_type)


def test_an_instance_type_without_a_row_is_refused_not_guessed():
    with pytest.raises(UnknownInstanceType, match="'m5.large' is not in the instance table"):
        needs(instance_types=("m5.large",))


def test_the_check_block_warns_with_the_quota_the_need_and_the_fix():
    out = synth(
        lambda stack: VcpuQuotaCheck(
            stack,
            "gpu-quota",
            VcpuQuotaCheckProps("sophia-ai-gpu-ng-dev", ("g4dn.xlarge", "g4dn.2xlarge"), "SPOT", 2),
        )
    )
    [(label, block)] = out["check"].items()
    assert label == "gpu-quota_L-3819A6DF"
    assert block["data"] == {
        "aws_servicequotas_service_quota": {label: {"service_code": "ec2", "quota_code": "L-3819A6DF"}}
    }
    [condition] = block["assert"]
    assert condition["condition"] == f"${{data.aws_servicequotas_service_quota.{label}.value >= 16}}"
    message = condition["error_message"]
    assert "All G and VT Spot Instance Requests" in message and "2 nodes x 8 vCPUs of g4dn.2xlarge" in message
    assert "--quota-code L-3819A6DF --desired-value 16" in message


@pytest.mark.parametrize("environment", [env.name for env in APP.environments])
def test_every_node_group_checks_its_quota_at_max_size(stack_json, environment):
    cfg = APP.environment(environment).config
    general = cfg.compute
    gpu = cfg.gpu_nodes
    expected = {
        f"compute-{environment}": (
            QUOTAS[("standard", "ON_DEMAND")].code,
            general.autoscaling.max * max(INSTANCE_TYPES[t].vcpus for t in {general.instance_sizes.api, general.instance_sizes.worker}),
        ),
        f"ai-ml-{environment}": (
            QUOTAS[("g-and-vt", gpu.capacity_type)].code,
            gpu.max_size * max(INSTANCE_TYPES[t].vcpus for t in gpu.instance_types),
        ),
    }
    for stack, (code, vcpus) in expected.items():
        checks = stack_json(stack)["check"]
        [block] = [b for label, b in checks.items() if label.endswith(code)]
        assert re.search(rf">= {vcpus}}}$", block["assert"][0]["condition"]), (stack, block["assert"][0]["condition"])

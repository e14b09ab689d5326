"""``VcpuQuotaCheck``: a Terraform ``check`` block that warns at plan time when an EC2 vCPU
quota is too small for a node group at its ``max_size``.

EC2 limits running instances per account and region in vCPUs, one quota per instance
class and purchase option ("Running On-Demand G and VT instances", "All G and VT Spot
Instance Requests", ...). A node group whose quota is too small deploys fine and then
never gets its nodes: the Auto Scaling group retries and reports ``VcpuLimitExceeded``.
The check reads the quota (``aws_servicequotas_service_quota``) and compares it with
``max_size`` x the vCPUs of the largest instance type of the group in that quota.

A ``check`` block warns and never fails a plan; its data source is scoped to it, so a
deploy role without ``servicequotas:GetServiceQuota`` also gets a warning, not an error.
The quota is the account's, shared with every other instance of its class there: the
check proves the group alone fits, not that the account has room for it.
cdktf 0.21 has no class for ``check`` blocks: the block is written on the stack with an
override (``terraform validate`` checks it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import TerraformStack
from constructs import Construct

from constructs_lib.compute.instance_types import instance_spec
from constructs_lib.errors import ValidationError


@dataclass(frozen=True)
class VcpuQuota:
    code: str
    """Service Quotas code (service ``ec2``)."""
    name: str
    """The quota's name in the Service Quotas console."""


# https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html and
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-spot-limits.html
_STANDARD = frozenset({"a", "c", "d", "h", "i", "m", "r", "t", "z"})
_G_AND_VT = frozenset({"g", "vt"})
QUOTAS: dict[tuple[str, str], VcpuQuota] = {
    ("standard", "ON_DEMAND"): VcpuQuota("L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"),
    ("standard", "SPOT"): VcpuQuota("L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests"),
    ("g-and-vt", "ON_DEMAND"): VcpuQuota("L-DB2E81BA", "Running On-Demand G and VT instances"),
    ("g-and-vt", "SPOT"): VcpuQuota("L-3819A6DF", "All G and VT Spot Instance Requests"),
}


def quota_class(instance_type: str) -> str:
    """``standard`` or ``g-and-vt``, from the letters that start the family (``g4dn`` -> ``g``)."""
    match = re.match(r"^([a-z]+)", instance_type)
    letters = match.group(1) if match else ""
    if letters in _STANDARD:
        return "standard"
    if letters in _G_AND_VT:
        return "g-and-vt"
    raise ValidationError(
        f"no EC2 vCPU quota is known for instance type {instance_type!r} (family {letters!r}): "
        "add it to constructs_lib/compute/vcpu_quota_check.py QUOTAS"
    )


@dataclass(frozen=True)
class VcpuQuotaCheckProps:
    node_group_name: str
    """The node group checked (named in the warning)."""
    instance_types: tuple[str, ...]
    """Its instance types (each in ``instance_types.INSTANCE_TYPES``)."""
    capacity_type: str
    """``ON_DEMAND`` or ``SPOT``: which of the two quotas of a class applies."""
    max_size: int
    """Most nodes the group may run."""


@dataclass(frozen=True)
class QuotaNeed:
    """What one quota must allow for the node group."""

    quota: VcpuQuota
    vcpus: int
    """``max_size`` x ``largest_vcpus``."""
    largest_type: str
    largest_vcpus: int


class VcpuQuotaCheck(Construct):
    """One ``check`` block per vCPU quota the node group draws on.

    Outputs: ``needs`` (the :class:`QuotaNeed` of each quota), ``check_names`` (the blocks' labels).
    """

    def __init__(self, scope: Construct, id_: str, props: VcpuQuotaCheckProps):
        super().__init__(scope, id_)
        self.needs = self.quota_needs(id_, props)
        stack = TerraformStack.of(self)
        # The construct path, without the stack, is unique in the stack and stable.
        base = re.sub(r"[^A-Za-z0-9_-]", "_", self.node.path.split("/", 1)[-1])
        self.check_names: list[str] = []
        for need in self.needs:
            label = f"{base}_{need.quota.code}"
            value = f"data.aws_servicequotas_service_quota.{label}.value"
            stack.add_override(
                f"check.{label}",
                {
                    "data": {
                        "aws_servicequotas_service_quota": {label: {"service_code": "ec2", "quota_code": need.quota.code}}
                    },
                    "assert": [
                        {
                            "condition": f"${{{value} >= {need.vcpus}}}",
                            "error_message": (
                                f'EC2 quota "{need.quota.name}" ({need.quota.code}) allows ${{{value}}} vCPUs in this '
                                f"account and region; node group {props.node_group_name} needs {need.vcpus} at its "
                                f"max_size ({props.max_size} nodes x {need.largest_vcpus} vCPUs of {need.largest_type}), "
                                "and instances of that class elsewhere in the account count too. Nodes beyond the quota "
                                "never launch. Ask for more: aws service-quotas request-service-quota-increase "
                                f"--service-code ec2 --quota-code {need.quota.code} --desired-value {need.vcpus}"
                            ),
                        }
                    ],
                },
            )
            self.check_names.append(label)

    @staticmethod
    def quota_needs(id_: str, props: VcpuQuotaCheckProps) -> list[QuotaNeed]:
        where = f"VcpuQuotaCheck {id_}"
        if not props.instance_types:
            raise ValidationError(f"{where}: instance_types must list at least one type, got ()")
        if props.max_size < 1:
            raise ValidationError(f"{where}: max_size must be >= 1, got {props.max_size}")
        largest: dict[str, tuple[int, str]] = {}
        for instance_type in props.instance_types:
            vcpus = instance_spec(instance_type).vcpus
            cls = quota_class(instance_type)
            # The autoscaler may launch any listed type: plan for the largest.
            if vcpus > largest.get(cls, (0, ""))[0]:
                largest[cls] = (vcpus, instance_type)
        needs = []
        for cls, (vcpus, instance_type) in sorted(largest.items()):
            quota = QUOTAS.get((cls, props.capacity_type))
            if quota is None:
                raise ValidationError(f"{where}: capacity_type must be ON_DEMAND or SPOT, got {props.capacity_type!r}")
            needs.append(QuotaNeed(quota, props.max_size * vcpus, instance_type, vcpus))
        return needs

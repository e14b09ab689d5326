"""vCPUs of the EC2 instance types the node groups may use.

A minimal table, kept to what the vCPU quota checks need (``VcpuQuotaCheck``): the types
the environments use. A type that is missing is refused (:class:`UnknownInstanceType`)
rather than guessed; add its row from the source below.

Source: the Amazon EC2 instance type specifications,
https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html (t3),
https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html (c5) and
https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html (g4dn, g5).

Another branch (s11b, the capacity check) adds a fuller table at this same path (memory,
GPUs, max pods, with the same ``INSTANCE_TYPES``/``instance_spec``/``vcpus`` names); when
both meet, that one replaces this one.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.errors import ValidationError


@dataclass(frozen=True)
class InstanceSpec:
    vcpus: int
    """vCPUs of one instance: what an EC2 vCPU quota counts."""


INSTANCE_TYPES: dict[str, InstanceSpec] = {
    # General purpose, burstable (gp.html).
    "t3.medium": InstanceSpec(vcpus=2),
    "t3.large": InstanceSpec(vcpus=2),
    # Compute optimized (co.html).
    "c5.large": InstanceSpec(vcpus=2),
    "c5.xlarge": InstanceSpec(vcpus=4),
    "c5.2xlarge": InstanceSpec(vcpus=8),
    # Accelerated computing (ac.html): g4dn = NVIDIA T4, g5 = NVIDIA A10G.
    "g4dn.xlarge": InstanceSpec(vcpus=4),
    "g4dn.2xlarge": InstanceSpec(vcpus=8),
    "g4dn.4xlarge": InstanceSpec(vcpus=16),
    "g5.xlarge": InstanceSpec(vcpus=4),
    "g5.2xlarge": InstanceSpec(vcpus=8),
}


class UnknownInstanceType(ValidationError):
    """An instance type the table has no row for."""


def instance_spec(instance_type: str) -> InstanceSpec:
    """The row of ``instance_type``; :class:`UnknownInstanceType` when there is none."""
    try:
        return INSTANCE_TYPES[instance_type]
    except KeyError:
        raise UnknownInstanceType(
            f"instance type {instance_type!r} is not in the instance table (constructs_lib/compute/instance_types.py, "
            f"known: {', '.join(sorted(INSTANCE_TYPES))}): add its vCPUs from the AWS instance type specifications"
        ) from None

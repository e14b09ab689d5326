"""The EC2 instance types node groups may use, and what one node of each can give pods.

A small table, not a copy of the EC2 catalogue: the types the environments use. A type
that is missing is refused (:class:`UnknownInstanceType`) rather than guessed; add its row
from the sources below.

Sources, per row:

* vCPUs, memory (GiB, here in MiB) and NVIDIA GPUs: the Amazon EC2 instance type
  specifications, https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html (t3),
  https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html (c5) and
  https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html (g4dn, g5).
* Max pods: the EKS AMI's table of what the VPC CNI allows without prefix delegation,
  ENIs x (IPv4 addresses per ENI - 1) + 2 (awslabs/amazon-eks-ami,
  ``templates/shared/runtime/eni-max-pods.txt``).

What a node can give pods (:meth:`InstanceSpec.allocatable`) follows the EKS AMI's kubelet
settings (``nodeadm``, awslabs/amazon-eks-ami ``nodeadm/internal/kubelet/config.go``):
kube-reserved CPU of 6% of the first core, 1% of the second, 0.5% of the third and fourth
and 0.25% of every further core; kube-reserved memory of 255 MiB + 11 MiB per pod the node
may run; a hard eviction threshold of 100 MiB of memory. Not subtracted: the DaemonSet
pods every node runs (VPC CNI, kube-proxy, CloudWatch agent, device plugin), and the few
percent by which the kernel's memory falls short of the nominal size. A plan that fits
these numbers is necessary, not sufficient.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.errors import ValidationError
from constructs_lib.quantities import MIB

# nodeadm: kube-reserved CPU per range of millicores [start, end) in hundredths of a percent.
_CPU_RESERVE_RANGES = ((0, 1000, 600), (1000, 2000, 100), (2000, 4000, 50), (4000, None, 25))
_BASE_MEMORY_RESERVE_MIB = 255
_MEMORY_RESERVE_PER_POD_MIB = 11
_EVICTION_HARD_MEMORY_MIB = 100


@dataclass(frozen=True)
class NodeResources:
    """CPU, memory and GPUs of one node, as the scheduler counts them."""

    cpu_millis: int
    memory_bytes: int
    gpus: int
    pods: int
    """Pods the node accepts (the VPC CNI's limit)."""


@dataclass(frozen=True)
class InstanceSpec:
    vcpus: int
    memory_mib: int
    gpus: int
    """NVIDIA GPUs (``nvidia.com/gpu`` once the device plugin runs)."""
    max_pods: int
    """Pods the VPC CNI allows without prefix delegation (eni-max-pods.txt)."""

    def allocatable(self) -> NodeResources:
        """Capacity less kube-reserved and the eviction threshold (the EKS AMI's settings)."""
        total = self.vcpus * 1000
        reserved_cpu = sum(
            (min(total, end if end is not None else total) - start) * share // 10000
            for start, end, share in _CPU_RESERVE_RANGES
            if total > start
        )
        reserved_memory = _BASE_MEMORY_RESERVE_MIB + _MEMORY_RESERVE_PER_POD_MIB * self.max_pods + _EVICTION_HARD_MEMORY_MIB
        return NodeResources(
            cpu_millis=total - reserved_cpu,
            memory_bytes=(self.memory_mib - reserved_memory) * MIB,
            gpus=self.gpus,
            pods=self.max_pods,
        )


INSTANCE_TYPES: dict[str, InstanceSpec] = {
    # General purpose, burstable (gp.html).
    "t3.medium": InstanceSpec(vcpus=2, memory_mib=4 * 1024, gpus=0, max_pods=17),
    "t3.large": InstanceSpec(vcpus=2, memory_mib=8 * 1024, gpus=0, max_pods=35),
    # Compute optimized (co.html).
    "c5.large": InstanceSpec(vcpus=2, memory_mib=4 * 1024, gpus=0, max_pods=29),
    "c5.xlarge": InstanceSpec(vcpus=4, memory_mib=8 * 1024, gpus=0, max_pods=58),
    "c5.2xlarge": InstanceSpec(vcpus=8, memory_mib=16 * 1024, gpus=0, max_pods=58),
    # Accelerated computing (ac.html): g4dn = NVIDIA T4, g5 = NVIDIA A10G.
    "g4dn.xlarge": InstanceSpec(vcpus=4, memory_mib=16 * 1024, gpus=1, max_pods=29),
    "g4dn.2xlarge": InstanceSpec(vcpus=8, memory_mib=32 * 1024, gpus=1, max_pods=29),
    "g4dn.4xlarge": InstanceSpec(vcpus=16, memory_mib=64 * 1024, gpus=1, max_pods=29),
    "g5.xlarge": InstanceSpec(vcpus=4, memory_mib=16 * 1024, gpus=1, max_pods=58),
    "g5.2xlarge": InstanceSpec(vcpus=8, memory_mib=32 * 1024, gpus=1, max_pods=58),
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
            f"known: {', '.join(sorted(INSTANCE_TYPES))}): add its vCPUs, memory, GPUs and max pods from the AWS "
            "instance type specifications and the EKS AMI's eni-max-pods.txt"
        ) from None

"""Props of :class:`~constructs_lib.compute.managed_node_group.ManagedNodeGroup` and the values
they are checked against; ``gpu_nodes:`` in the configuration reads ``RootVolume`` and
``CAPACITY_TYPES``. No cdktf here (``constructs_lib/__init__.py`` says why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from constructs_lib.errors import ValidationError
from constructs_lib.limits import bounded, check_limits
from constructs_lib.storage import gp3

if TYPE_CHECKING:
    from cdktf import ITerraformDependable

# Amazon Linux 2 reached end of life (EKS stopped publishing AL2 AMIs with Kubernetes 1.33),
# and its AMIs rely on /etc/eks/bootstrap.sh: only AL2023 and Bottlerocket types are accepted.
SUPPORTED_AMI_TYPES = frozenset(
    {
        "AL2023_x86_64_STANDARD",
        "AL2023_ARM_64_STANDARD",
        "AL2023_x86_64_NVIDIA",
        "AL2023_x86_64_NEURON",
        "BOTTLEROCKET_x86_64",
        "BOTTLEROCKET_ARM_64",
        "BOTTLEROCKET_x86_64_NVIDIA",
        "BOTTLEROCKET_ARM_64_NVIDIA",
    }
)
CAPACITY_TYPES = ("ON_DEMAND", "SPOT")
# Kubernetes spelling -> EKS API spelling.
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}


@dataclass(frozen=True)
class Taint:
    """A Kubernetes taint put on every node of the group."""

    key: str
    value: str
    effect: str = "NoSchedule"
    """``NoSchedule``, ``PreferNoSchedule`` or ``NoExecute`` (Kubernetes spelling)."""


@dataclass(frozen=True)
class RootVolume:
    """The gp3 root volume of each node; always encrypted. Checked when created, against
    gp3's limits (:mod:`constructs_lib.storage.gp3`).

    Also the type of the configuration's ``gpu_nodes.root_volume``: these defaults and limits
    are the only ones."""

    size_gib: int = bounded(50, ge=20, le=16384)
    """Size in GiB, 20..16384: the EKS AMIs' root (Bottlerocket: data) snapshots are 20 GiB, and
    a volume cannot be smaller than its snapshot. Default: 50."""
    iops: int = bounded(gp3.BASELINE_IOPS, ge=gp3.BASELINE_IOPS, le=gp3.MAX_IOPS)
    """Provisioned IOPS, 3000..16000, at most 500 per GiB. Default: 3000 (the gp3 baseline, included in the price)."""
    throughput_mibps: int = bounded(
        gp3.BASELINE_THROUGHPUT_MIBPS, ge=gp3.BASELINE_THROUGHPUT_MIBPS, le=gp3.MAX_THROUGHPUT_MIBPS
    )
    """Throughput in MiB/s, 125..1000, at most 0.25 per provisioned IOPS. Default: 125 (the gp3 baseline)."""
    kms_key_arn: str | None = None
    """Customer-managed key for the volume. Default: the account's ``aws/ebs`` key.
    A customer key must grant the EC2 Auto Scaling service-linked role
    (``AWSServiceRoleForAutoScaling``) use of the key, or instances fail to launch."""

    def __post_init__(self) -> None:
        check_limits(self)
        if self.iops > gp3.BASELINE_IOPS and self.iops > gp3.MAX_IOPS_PER_GIB * self.size_gib:
            raise ValidationError(
                f"RootVolume: iops {self.iops} exceeds {gp3.MAX_IOPS_PER_GIB} IOPS per GiB of a {self.size_gib} GiB gp3 volume"
            )
        if self.throughput_mibps > gp3.BASELINE_THROUGHPUT_MIBPS and self.throughput_mibps > gp3.MAX_MIBPS_PER_IOPS * self.iops:
            raise ValidationError(
                f"RootVolume: throughput_mibps {self.throughput_mibps} exceeds {gp3.MAX_MIBPS_PER_IOPS} MiB/s per "
                f"provisioned IOPS ({self.iops} IOPS)"
            )


@dataclass(frozen=True, kw_only=True)
class NodeGroupOptions:
    """What a node group is; :class:`ManagedNodeGroupProps` adds how it joins a cluster.
    ``EksCluster.add_node_group`` takes these and supplies the rest."""

    node_group_name: str
    """Node group name (checked against EKS's 63-character limit); also names the launch template."""
    node_role_name: str
    """Name of the node IAM role this construct creates."""
    subnet_ids: Sequence[str]
    """Subnets of the nodes: the private subnets, one per AZ."""
    instance_types: tuple[str, ...]
    """Instance types; the cluster autoscaler plans with the first, so list types of
    the same vCPU and memory, or the smallest first."""
    min_size: int
    """Fewest nodes (0 allows scale-to-zero)."""
    max_size: int
    """Most nodes."""
    desired_size: int
    """Nodes at creation; ignored afterwards (the cluster autoscaler owns it)."""
    ami_type: str = "AL2023_x86_64_STANDARD"
    """EKS AMI family; AL2 types are refused. Default: ``AL2023_x86_64_STANDARD``."""
    capacity_type: str = "ON_DEMAND"
    """``ON_DEMAND`` or ``SPOT``. Default: ``ON_DEMAND``."""
    root_volume: RootVolume = RootVolume()
    """Root volume. Default: 50 GiB gp3, 3000 IOPS, 125 MiB/s, encrypted."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels of every node. Default: none."""
    taints: tuple[Taint, ...] = ()
    """Kubernetes taints of every node. Default: none."""
    imds_hop_limit: int = 1
    """IMDSv2 PUT response hop limit. Default 1: containers (one network hop
    further) cannot reach the node's metadata and so cannot take the node role's
    credentials; pods get AWS access through IRSA instead."""
    max_unavailable_percentage: int = 33
    """Nodes replaced at once during a version or launch-template update. Default: 33%."""
    autoscaler_resources: Mapping[str, str] = field(default_factory=dict)
    """Extended resources a node offers (e.g. ``{"nvidia.com/gpu": "1"}``), told to the
    cluster autoscaler through ``node-template/resources`` tags. Default: none."""
    instance_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the instances and their volumes (``Name`` is added). Pass the
    environment's default tags: the provider's ``default_tags`` do not reach them."""
    vcpu_quota_check: bool = True
    """Warn at plan time when the account's EC2 vCPU quota for these instance types and
    ``capacity_type`` is below ``max_size`` x their vCPUs (``VcpuQuotaCheck``; every type
    must then be in ``instance_types.INSTANCE_TYPES``). Default: on."""


@dataclass(frozen=True, kw_only=True)
class ManagedNodeGroupProps(NodeGroupOptions):
    """A node group and its cluster. Prefer ``EksCluster.add_node_group(scope, id, options)``,
    which fills these three from the cluster."""

    cluster_name: str
    """Name of the EKS cluster the nodes join."""
    security_group_ids: Sequence[str]
    """Security groups of every node. With a launch template that lists security groups,
    EKS does not add the cluster security group by itself: include it here."""
    depends_on: tuple[ITerraformDependable, ...] = ()
    """Resources the node group waits for (the cluster's ``vpc-cni`` add-on: without
    it nodes never become Ready). Default: none."""

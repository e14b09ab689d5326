"""Props of :class:`~constructs_lib.ai.gpu_node_group.GpuNodeGroup` and the values they are
checked against; ``gpu_nodes:`` in the configuration reads them. No cdktf here
(``constructs_lib/__init__.py`` says why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from constructs_lib.compute.managed_node_group_props import RootVolume

if TYPE_CHECKING:
    from constructs_lib.compute.eks_cluster import EksCluster

GPU_AMI_TYPES = ("AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA")
MAX_GPUS_PER_INSTANCE = 16
"""The most GPUs an EC2 instance has (p4de/p5 have 8; headroom for larger types)."""

GPU_ROOT_VOLUME = RootVolume(size_gib=100)
"""Default root (Bottlerocket: data) volume of a GPU node: CUDA images are several GiB each."""


@dataclass(frozen=True)
class GpuNodeGroupProps:
    cluster: EksCluster
    """The cluster the nodes join (``ComputeStack.cluster``), through :meth:`EksCluster.add_node_group`,
    which gives them its name and its node security groups."""
    node_group_name: str
    """Node group (and launch template) name."""
    node_role_name: str
    """Name of the node IAM role this construct creates."""
    subnet_ids: Sequence[str]
    """Private subnets, one per AZ."""
    instance_types: tuple[str, ...] = ("g4dn.xlarge",)
    """NVIDIA GPU instance types with the same GPU count. Default: ``g4dn.xlarge`` (1x T4)."""
    capacity_type: str = "ON_DEMAND"
    """``ON_DEMAND`` or ``SPOT``. Default: ``ON_DEMAND``."""
    ami_type: str = "AL2023_x86_64_NVIDIA"
    """``AL2023_x86_64_NVIDIA`` or ``BOTTLEROCKET_x86_64_NVIDIA``. Default: AL2023."""
    min_size: int = 1
    """Fewest nodes (0: scale to zero when idle). Default: 1."""
    max_size: int = 3
    """Most nodes. Default: 3."""
    desired_size: int = 1
    """Nodes at creation; the cluster autoscaler owns it afterwards. Default: 1."""
    gpus_per_instance: int = 1
    """GPUs per node, advertised to the cluster autoscaler for scale-from-zero. Default: 1."""
    root_volume: RootVolume = GPU_ROOT_VOLUME
    """Root (data, on Bottlerocket) volume. Default: :data:`GPU_ROOT_VOLUME`, 100 GiB gp3, 3000 IOPS, 125 MiB/s."""
    imds_hop_limit: int = 1
    """IMDSv2 hop limit. Default 1: containers cannot reach the node role's credentials.
    The model servers read their artifacts through their own IRSA roles, and the
    node agents that need instance metadata (CloudWatch agent, VPC CNI, device
    plugin) run on the host network. Raise to 2 only for a workload that must use
    the node role from inside a container."""
    instance_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the instances and volumes (the environment's default tags)."""

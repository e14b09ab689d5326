"""``GpuNodeGroup``: the EKS managed node group that runs GPU model servers.

The seed's ``GpuNodeGroup`` fixed: an NVIDIA AMI type that is supported today
(``AL2023_x86_64_NVIDIA`` or ``BOTTLEROCKET_x86_64_NVIDIA``: drivers and the
NVIDIA container toolkit are in the AMI, and no ``/etc/eks/bootstrap.sh`` user
data), labels and a ``NoSchedule`` taint set by EKS rather than by kubelet
flags, desired size left to the cluster autoscaler, scale-from-zero hints for
it, and no S3 access of its own instead of ``AmazonS3ReadOnlyAccess`` on every
bucket of the account: the owner of a bucket grants the node role what it may
read (``ModelRegistry.grant_read_artifacts("gpu-nodes", node_group.node_role_name)``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from constructs import Construct

from constructs_lib import tagging
from constructs_lib.compute.eks_cluster import EksCluster
from constructs_lib.compute.managed_node_group import NodeGroupOptions, RootVolume, Taint, validate_sizes
from constructs_lib.errors import ValidationError

GPU_AMI_TYPES = ("AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA")
GPU_RESOURCE = "nvidia.com/gpu"
MAX_GPUS_PER_INSTANCE = 16
"""The most GPUs an EC2 instance has (p4de/p5 have 8; headroom for larger types)."""
# What a model Deployment selects and tolerates to land on these nodes (the
# ai-workloads stack reads these constants, so both sides cannot drift apart).
GPU_LABELS: Mapping[str, str] = {"nvidia.com/gpu": "true", "workload-type": "ml"}
GPU_TAINT = Taint(key="nvidia.com/gpu", value="true", effect="NoSchedule")

GPU_ROOT_VOLUME = RootVolume(size_gib=100)
"""Default root (Bottlerocket: data) volume of a GPU node: CUDA images are several GiB each."""

# x86 NVIDIA families (g5g is Graviton and needs an ARM AMI; inf/trn are not NVIDIA).
_GPU_INSTANCE = re.compile(r"^(g4dn|g5|g6|g6e|gr6|p3|p3dn|p4d|p4de|p5|p5e|p5en|p6-b200)\.[a-z0-9]+$")


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


class GpuNodeGroup(Construct):
    """GPU nodes for model serving: tainted so only GPU pods land there, labelled for selection.

    Outputs: ``node_group_name``, ``node_group_arn``, ``node_role_arn``,
    ``node_role_name``, ``autoscaling_group_name``; ``labels`` and ``taint`` to
    match in pod specs.
    """

    labels: Mapping[str, str] = GPU_LABELS
    taint: Taint = GPU_TAINT

    def __init__(self, scope: Construct, id_: str, props: GpuNodeGroupProps):
        super().__init__(scope, id_)
        tagging.set_component(self, "ai")
        self.props = props
        self._validate(id_, props)

        self.nodes = props.cluster.add_node_group(
            self,
            "nodes",
            NodeGroupOptions(
                node_group_name=props.node_group_name,
                node_role_name=props.node_role_name,
                subnet_ids=props.subnet_ids,
                instance_types=props.instance_types,
                min_size=props.min_size,
                max_size=props.max_size,
                desired_size=props.desired_size,
                ami_type=props.ami_type,
                capacity_type=props.capacity_type,
                root_volume=props.root_volume,
                labels=dict(GPU_LABELS),
                taints=(GPU_TAINT,),
                imds_hop_limit=props.imds_hop_limit,
                autoscaler_resources={GPU_RESOURCE: str(props.gpus_per_instance)},
                instance_tags=props.instance_tags,
            ),
        )

        self.node_group_name: str = self.nodes.node_group_name
        self.node_group_arn: str = self.nodes.node_group_arn
        self.node_role_arn: str = self.nodes.node_role_arn
        self.node_role_name: str = self.nodes.node_role_name
        self.autoscaling_group_name: str = self.nodes.autoscaling_group_name

    @staticmethod
    def _validate(id_: str, props: GpuNodeGroupProps) -> None:
        where = f"GpuNodeGroup {id_}"
        if props.ami_type not in GPU_AMI_TYPES:
            raise ValidationError(f"{where}: ami_type must be one of {list(GPU_AMI_TYPES)}, got {props.ami_type!r}")
        for instance_type in props.instance_types:
            if not _GPU_INSTANCE.fullmatch(instance_type):
                raise ValidationError(
                    f"{where}: instance_types must be x86 NVIDIA GPU types (g4dn, g5, g6, p4d, p5, ...), got {instance_type!r}"
                )
        if not 1 <= props.gpus_per_instance <= MAX_GPUS_PER_INSTANCE:
            raise ValidationError(
                f"{where}: gpus_per_instance must be 1..{MAX_GPUS_PER_INSTANCE}, got {props.gpus_per_instance}"
            )
        validate_sizes(where, props.min_size, props.desired_size, props.max_size)

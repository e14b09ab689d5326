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
from collections.abc import Mapping

from constructs import Construct

from constructs_lib import tagging
from constructs_lib.ai.gpu_node_group_props import GPU_AMI_TYPES, MAX_GPUS_PER_INSTANCE, GpuNodeGroupProps
from constructs_lib.compute.managed_node_group import validate_sizes
from constructs_lib.compute.managed_node_group_props import NodeGroupOptions, Taint
from constructs_lib.errors import ValidationError

GPU_RESOURCE = "nvidia.com/gpu"
# What a model Deployment selects and tolerates to land on these nodes (the
# ai-workloads stack reads these constants, so both sides cannot drift apart).
GPU_LABELS: Mapping[str, str] = {"nvidia.com/gpu": "true", "workload-type": "ml"}
GPU_TAINT = Taint(key="nvidia.com/gpu", value="true", effect="NoSchedule")

# x86 NVIDIA families (g5g is Graviton and needs an ARM AMI; inf/trn are not NVIDIA).
_GPU_INSTANCE = re.compile(r"^(g4dn|g5|g6|g6e|gr6|p3|p3dn|p4d|p4de|p5|p5e|p5en|p6-b200)\.[a-z0-9]+$")


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

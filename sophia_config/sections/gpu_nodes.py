"""``gpu_nodes:``: the GPU node group that runs model servers (``ai-ml`` stack)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from constructs_lib.ai.gpu_node_group_props import (
    GPU_AMI_TYPES,
    GPU_ROOT_VOLUME,
    MAX_GPUS_PER_INSTANCE,
    GpuNodeGroupProps,
)
from constructs_lib.compute.managed_node_group_props import CAPACITY_TYPES, RootVolume
from sophia_config.types import InstanceType, Model, library_value

GpuRootVolume = library_value(RootVolume, defaults=GPU_ROOT_VOLUME, exclude=("kms_key_arn",))
"""``size_gib``, ``iops``, ``throughput_mibps`` of the library's :class:`RootVolume` with its gp3
limits, each defaulting to ``GPU_ROOT_VOLUME``'s; loaded as a ``RootVolume`` (``aws/ebs`` key)."""


class GpuNodesConfig(Model):
    """Instance types, purchase option and scaling bounds of the GPU node group."""

    instance_types: Annotated[list[InstanceType], Field(min_length=1)]
    """NVIDIA GPU instance types (g4dn, g5, g6, p4d, ...); with SPOT, list several
    of the same GPU count to widen the capacity pools."""
    capacity_type: Literal[CAPACITY_TYPES]  # type: ignore[valid-type]
    """``ON_DEMAND`` for serving that must not be interrupted; ``SPOT`` where a
    2-minute interruption is acceptable (dev)."""
    ami_type: Literal[GPU_AMI_TYPES] = GpuNodeGroupProps.ami_type  # type: ignore[valid-type]
    """EKS-optimized NVIDIA AMI family (Amazon Linux 2 is end of life and refused)."""
    gpus_per_node: Annotated[int, Field(ge=1, le=MAX_GPUS_PER_INSTANCE)] = GpuNodeGroupProps.gpus_per_instance
    """GPUs per instance of every listed type; tells the cluster autoscaler what a
    node from an empty group would offer (``nvidia.com/gpu``)."""
    min_size: Annotated[int, Field(ge=0)]
    """Fewest nodes; 0 lets an idle group scale to zero."""
    max_size: Annotated[int, Field(ge=1, le=100)]
    """Most nodes the autoscaler may launch."""
    desired_size: Annotated[int, Field(ge=0)]
    """Nodes at creation only; afterwards the cluster autoscaler owns it."""
    root_volume: GpuRootVolume = GPU_ROOT_VOLUME
    """The gp3 root volume of each GPU node (container images and model caches live here).
    Default: ``GPU_ROOT_VOLUME`` (100 GiB, 3000 IOPS, 125 MiB/s)."""

    @model_validator(mode="after")
    def _consistent(self) -> GpuNodesConfig:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"min_size <= desired_size <= max_size must hold, got min_size={self.min_size}, "
                f"desired_size={self.desired_size}, max_size={self.max_size}"
            )
        if len(set(self.instance_types)) != len(self.instance_types):
            raise ValueError(f"instance_types must not repeat a type, got {self.instance_types!r}")
        return self

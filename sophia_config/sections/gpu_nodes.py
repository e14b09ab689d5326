"""``gpu_nodes:``: the GPU node group that runs model servers (``ai-ml`` stack)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sophia_config.types import InstanceType, Model


class GpuRootVolume(Model):
    """The gp3 root volume of each GPU node (container images and model caches live here)."""

    size_gib: Annotated[int, Field(ge=20, le=16384)] = 100
    """Size in GiB. Default 100: CUDA images are several GiB each."""
    iops: Annotated[int, Field(ge=3000, le=16000)] = 3000
    """Provisioned IOPS (3000 is the gp3 baseline, included in the price)."""
    throughput_mibps: Annotated[int, Field(ge=125, le=1000)] = 125
    """Throughput in MiB/s (125 is the gp3 baseline)."""


class GpuNodesConfig(Model):
    """Instance types, purchase option and scaling bounds of the GPU node group."""

    instance_types: Annotated[list[InstanceType], Field(min_length=1)]
    """NVIDIA GPU instance types (g4dn, g5, g6, p4d, ...); with SPOT, list several
    of the same GPU count to widen the capacity pools."""
    capacity_type: Literal["ON_DEMAND", "SPOT"]
    """``ON_DEMAND`` for serving that must not be interrupted; ``SPOT`` where a
    2-minute interruption is acceptable (dev)."""
    ami_type: Literal["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"] = "AL2023_x86_64_NVIDIA"
    """EKS-optimized NVIDIA AMI family (Amazon Linux 2 is end of life and refused)."""
    gpus_per_node: Annotated[int, Field(ge=1, le=16)] = 1
    """GPUs per instance of every listed type; tells the cluster autoscaler what a
    node from an empty group would offer (``nvidia.com/gpu``)."""
    min_size: Annotated[int, Field(ge=0)]
    """Fewest nodes; 0 lets an idle group scale to zero."""
    max_size: Annotated[int, Field(ge=1, le=100)]
    """Most nodes the autoscaler may launch."""
    desired_size: Annotated[int, Field(ge=0)]
    """Nodes at creation only; afterwards the cluster autoscaler owns it."""
    root_volume: GpuRootVolume = GpuRootVolume()

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

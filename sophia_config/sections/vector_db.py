"""``vector_db:``: the OpenSearch domain that stores embeddings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from constructs_lib.ai.vector_database_props import (
    AVAILABILITY_ZONES,
    DEDICATED_MASTER_COUNTS,
    ENGINE_VERSION_PATTERN,
    VOLUME_SIZE_GB,
    VectorDatabaseProps,
)
from constructs_lib.storage import gp3
from sophia_config.types import InstanceType, Model


class VectorDbConfig(Model):
    """Size and resilience of the vector database (Amazon OpenSearch Service)."""

    engine_version: Annotated[str, Field(pattern=ENGINE_VERSION_PATTERN)]
    """OpenSearch engine, ``OpenSearch_<major>.<minor>``."""
    instance_type: InstanceType
    """Data node type, ``<family>.<size>.search``."""
    instance_count: Annotated[int, Field(ge=1, le=80)]
    """Data nodes. With zone awareness, a multiple of ``availability_zones``."""
    volume_size_gb: Annotated[int, Field(ge=VOLUME_SIZE_GB[0], le=VOLUME_SIZE_GB[1])]
    """gp3 EBS volume per data node, GiB."""
    volume_iops: Annotated[int, Field(ge=gp3.BASELINE_IOPS, le=gp3.MAX_IOPS)] = VectorDatabaseProps.volume_iops
    """gp3 IOPS per volume (3000 is the gp3 baseline)."""
    volume_throughput: Annotated[
        int, Field(ge=gp3.BASELINE_THROUGHPUT_MIBPS, le=gp3.MAX_THROUGHPUT_MIBPS)
    ] = VectorDatabaseProps.volume_throughput
    """gp3 throughput per volume, MiB/s (125 is the gp3 baseline)."""
    availability_zones: Literal[AVAILABILITY_ZONES]  # type: ignore[valid-type]
    """1: no zone awareness; 2 or 3: shards replicated across that many AZs."""
    dedicated_master_count: Literal[DEDICATED_MASTER_COUNTS]  # type: ignore[valid-type]
    """0: data nodes elect the cluster manager; 3 or 5: dedicated master nodes."""
    dedicated_master_type: InstanceType | None = None
    """Dedicated master node type; required when ``dedicated_master_count`` > 0."""
    automated_snapshot_start_hour: Annotated[int, Field(ge=0, le=23)]
    """UTC hour of the daily automated snapshot."""

    @model_validator(mode="after")
    def _consistent(self) -> VectorDbConfig:
        if not self.instance_type.endswith(".search"):
            raise ValueError(f"instance_type must be an OpenSearch type ending in '.search', got {self.instance_type!r}")
        if self.dedicated_master_count and self.dedicated_master_type is None:
            raise ValueError(
                f"dedicated_master_type is required with dedicated_master_count={self.dedicated_master_count}"
            )
        if self.availability_zones > 1 and self.instance_count % self.availability_zones:
            raise ValueError(
                f"instance_count must be a multiple of availability_zones, got instance_count={self.instance_count}, "
                f"availability_zones={self.availability_zones}"
            )
        return self

"""``network``: the environment's VPC (see docs/constructs/networking.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from constructs_lib.networking.flow_logs_props import AGGREGATION_INTERVALS
from constructs_lib.networking.subnet_plan import SubnetPlanError, SubnetPrefixLengths, plan_subnets
from sophia_config.types import Cidr, Model, library_value

PrefixLengths = library_value(SubnetPrefixLengths)
"""``public``, ``private``, ``database`` of the library's :class:`SubnetPrefixLengths` (/16../28,
defaults /24, /20, /24); loaded as a ``SubnetPrefixLengths``."""
# Service names as they follow ``com.amazonaws.<region>.`` (ecr.api, sts, logs...).
EndpointService = Annotated[str, Field(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")]


class NetworkConfig(Model):
    vpc_cidr: Cidr
    """The VPC's IPv4 range; must not overlap another environment's."""
    az_count: Annotated[int, Field(ge=2, le=6)]
    """How many AZs every tier spans: at least 2, because an EKS cluster and an RDS
    subnet group both refuse subnets in a single AZ."""
    az_slots: Annotated[int, Field(ge=2, le=6)]
    """Subnet blocks reserved per tier (>= ``az_count``): ``az_count`` can later grow up
    to this without moving, and so replacing, any existing subnet."""
    availability_zone_suffixes: Annotated[list[Annotated[str, Field(pattern=r"^[a-z]$")]], Field(min_length=1)]
    """The AZs used, as letters after the region (``[a, b, c]`` -> ``us-west-2a``...):
    explicit so that an AZ appearing or disappearing in the account never moves subnets.
    Exactly ``az_count`` distinct letters."""
    nat_strategy: Literal["none", "single", "one_per_az"]
    """``single``: one NAT gateway for all AZs (cheaper, one AZ's outage cuts egress);
    ``one_per_az``: one per AZ (resilient); ``none``: no egress to the internet."""
    subnet_prefix_lengths: PrefixLengths
    """Per tier; subnets are carved from ``vpc_cidr`` (largest first), which must hold
    3 tiers × ``az_slots`` of them."""
    flow_log_aggregation_interval: Literal[AGGREGATION_INTERVALS]  # type: ignore[valid-type]
    """Seconds over which VPC flow logs aggregate a flow (60: faster detection, more records)."""
    interface_endpoints: list[EndpointService]
    """Interface VPC endpoints (private DNS on) in the private subnets, e.g. ``ecr.api``,
    ``ecr.dkr``, ``sts``, ``logs``: image pulls and AWS API calls stay off the NAT."""

    @model_validator(mode="after")
    def _zones_and_subnets(self) -> NetworkConfig:
        if self.az_slots < self.az_count:
            raise ValueError(f"az_slots must be >= az_count={self.az_count}, got {self.az_slots}")
        zones = self.availability_zone_suffixes
        if len(zones) != self.az_count:
            raise ValueError(
                f"availability_zone_suffixes must list exactly az_count={self.az_count} zones, got {zones!r}"
            )
        if len(set(zones)) != len(zones):
            raise ValueError(f"availability_zone_suffixes must be distinct, got {zones!r}")
        if len(set(self.interface_endpoints)) != len(self.interface_endpoints):
            raise ValueError(f"interface_endpoints must be distinct, got {self.interface_endpoints!r}")
        try:
            plan_subnets(self.vpc_cidr, self.az_count, self.subnet_prefix_lengths, self.az_slots)
        except SubnetPlanError as exc:
            raise ValueError(f"vpc_cidr / subnet_prefix_lengths: {exc}") from None
        return self

"""Subnet CIDRs derived from the VPC CIDR: pure Python (``ipaddress``), no provider.

Both the configuration model (to reject a VPC that is too small before anything
is built) and the ``Networking`` construct (to lay the subnets out) use
:func:`plan_subnets`, so the check and the layout can never disagree.

Layout: tiers are allocated largest block first (ties in ``TIERS`` order), one
block per AZ *slot*, from the start of the VPC range; AZ ``i`` uses slot ``i``.
Blocks of decreasing size packed from an aligned start are themselves aligned,
so there are no gaps: the plan fits exactly when the sum of the blocks fits the
VPC. Reserving more slots than AZs (``az_slots``) lets the AZ count grow later
without moving a single existing subnet; changing ``az_slots`` or a prefix
length moves blocks, and Terraform would replace those subnets (and what is in
them: NAT gateways, databases).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from constructs_lib.errors import ValidationError
from constructs_lib.limits import bounded, check_limits

TIERS = ("public", "private", "database")
"""public: load balancers and NAT gateways; private: workloads (EKS nodes and pods);
database: isolated, no route out of the VPC."""

# AWS: a subnet is at most the VPC (at most a /16) and at least a /28 (16 addresses, 5 reserved).
MAX_SUBNET_PREFIX = 16
MIN_SUBNET_PREFIX = 28


@dataclass(frozen=True)
class SubnetPrefixLengths:
    """Prefix length of each tier's subnets (one subnet per tier and AZ), /16../28; each must
    also be no shorter than the VPC's, which :func:`plan_subnets` checks.

    Also the type of the configuration's ``network.subnet_prefix_lengths``: these defaults and
    limits are the only ones."""

    public: int = bounded(24, ge=MAX_SUBNET_PREFIX, le=MIN_SUBNET_PREFIX)
    """Load balancers and NAT gateways: few addresses. Default /24 (251 usable per AZ)."""
    private: int = bounded(20, ge=MAX_SUBNET_PREFIX, le=MIN_SUBNET_PREFIX)
    """EKS nodes and pods (the VPC CNI gives every pod a VPC address): the largest. Default /20 (4091 per AZ)."""
    database: int = bounded(24, ge=MAX_SUBNET_PREFIX, le=MIN_SUBNET_PREFIX)
    """Isolated database tier. Default /24."""

    def __post_init__(self) -> None:
        check_limits(self)


class SubnetPlanError(ValidationError):
    """The VPC CIDR cannot hold the requested subnets."""


def plan_subnets(
    vpc_cidr: str, az_count: int, prefix_lengths: SubnetPrefixLengths, az_slots: int | None = None
) -> dict[str, tuple[str, ...]]:
    """Tier -> one CIDR per AZ (in AZ order), carved from ``vpc_cidr``.

    ``az_slots`` (default: ``az_count``) blocks are reserved per tier.
    Raises :class:`SubnetPlanError` naming the VPC CIDR, the tiers × AZs and the
    addresses needed when the subnets do not fit.
    """
    vpc = ipaddress.ip_network(vpc_cidr, strict=True)
    slots = az_count if az_slots is None else az_slots
    if az_count < 1:
        raise SubnetPlanError(f"az_count must be >= 1, got {az_count!r}")
    if slots < az_count:
        raise SubnetPlanError(f"az_slots must be >= az_count={az_count}, got {slots!r}")
    prefix_lengths = {tier: getattr(prefix_lengths, tier) for tier in TIERS}
    for tier in TIERS:
        length = prefix_lengths[tier]
        if not vpc.prefixlen <= length <= MIN_SUBNET_PREFIX:
            raise SubnetPlanError(
                f"the {tier} subnet prefix length must be between the VPC's /{vpc.prefixlen} "
                f"and /{MIN_SUBNET_PREFIX}, got /{length}"
            )

    needed = sum(2 ** (32 - prefix_lengths[tier]) for tier in TIERS) * slots
    if needed > vpc.num_addresses:
        blocks = " + ".join(f"{slots} × {tier} /{prefix_lengths[tier]}" for tier in TIERS)
        zones = f"{slots} AZs" if slots == az_count else f"{slots} AZ slots ({az_count} used)"
        raise SubnetPlanError(
            f"VPC CIDR {str(vpc)!r} ({vpc.num_addresses} addresses) is too small for "
            f"{len(TIERS)} tiers × {zones}: {blocks} need {needed} addresses"
        )

    order = sorted(TIERS, key=lambda tier: (prefix_lengths[tier], TIERS.index(tier)))
    cursor = int(vpc.network_address)
    plan: dict[str, tuple[str, ...]] = {}
    for tier in order:
        size = 2 ** (32 - prefix_lengths[tier])
        plan[tier] = tuple(str(ipaddress.ip_network((cursor + i * size, prefix_lengths[tier]))) for i in range(az_count))
        cursor += slots * size
    return {tier: plan[tier] for tier in TIERS}

"""Security facts with one home: read by the guards, the IAM constructs and the review.

* **Public exposure**, judged on address space, not on strings: the union of an ingress
  rule's (or a security group's) sources, IPv4 and IPv6, is intersected with public
  address space, and it is *too broad* when it covers more than
  :data:`PUBLIC_IPV4_BOUND` / :data:`PUBLIC_IPV6_BOUND` allow. ``0.0.0.0/1`` plus
  ``128.0.0.0/1`` is the internet, whatever it is spelled as.
* **Broad managed policies**: what no role should get without a reviewer's attention.
* **Data resource types**: destroying (or replacing) one loses data.

Standard library only, so that every layer can import it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# --- Public address space -------------------------------------------------------------

PUBLIC_IPV4_BOUND = 24
"""A union of sources may cover at most a /24 of public IPv4 (256 addresses).

Why /24: it is the longest prefix routed on the internet (BGP filters drop longer ones),
so one /24 is the usual unit of "one partner's or one office's network": a deliberate,
named allowance a reviewer can check. Anything more spans several organisations, and
rules adding up to more (``0.0.0.0/1`` + ``128.0.0.0/1``, or many /24s) are the internet
in pieces."""
PUBLIC_IPV6_BOUND = 48
"""A union of sources may cover at most a /48 of public IPv6: the standard assignment to
one site and, likewise, the longest prefix routed globally."""

_NON_PUBLIC_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # RFC 1918
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local
        "172.16.0.0/12",  # RFC 1918
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.168.0.0/16",  # RFC 1918
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the limited broadcast address
    )
)
# Public IPv6 is the global unicast space (2000::/3) without the documentation prefixes;
# the rest is unique-local (fc00::/7), link-local, multicast, reserved or unallocated.
_PUBLIC_V6 = tuple(ipaddress.IPv6Network(n) for n in ("2000::/3",))
_NON_PUBLIC_V6 = tuple(ipaddress.IPv6Network(n) for n in ("2001:db8::/32", "3fff::/20"))


def _public_v4() -> tuple[ipaddress.IPv4Network, ...]:
    space = [ipaddress.IPv4Network("0.0.0.0/0")]
    for hole in _NON_PUBLIC_V4:
        space = [part for net in space for part in (net.address_exclude(hole) if hole.subnet_of(net) else [net])]
    return tuple(ipaddress.collapse_addresses(space))


def _public_v6() -> tuple[ipaddress.IPv6Network, ...]:
    space = list(_PUBLIC_V6)
    for hole in _NON_PUBLIC_V6:
        space = [part for net in space for part in (net.address_exclude(hole) if hole.subnet_of(net) else [net])]
    return tuple(ipaddress.collapse_addresses(space))


PUBLIC_IPV4 = _public_v4()
"""Public IPv4 space: everything outside the special-purpose ranges above (IANA registry)."""
PUBLIC_IPV6 = _public_v6()
"""Public IPv6 space: global unicast without the documentation prefixes."""


def _covered(sources: Iterable[ipaddress._BaseNetwork], space: Iterable[ipaddress._BaseNetwork]) -> int:
    """Addresses of ``space`` inside the union of ``sources`` (both are sets of CIDR blocks,
    which either nest or are disjoint, so the intersection of two is the smaller one)."""
    union = list(ipaddress.collapse_addresses(sources))
    total = 0
    for source in union:
        for public in space:
            if source.subnet_of(public):
                total += source.num_addresses
            elif public.subnet_of(source):
                total += public.num_addresses
    return total


@dataclass(frozen=True)
class Exposure:
    """What a set of ingress sources admits from public address space."""

    sources: tuple[str, ...]
    """The CIDR literals judged, as written."""
    public_ipv4: int
    """Public IPv4 addresses inside their union."""
    public_ipv6: int
    """Public IPv6 addresses inside their union."""
    unjudged: tuple[str, ...] = ()
    """Values that are not CIDR literals (Terraform references): not judged here."""

    @property
    def too_broad(self) -> bool:
        """More public space than one /24 (IPv4) or one /48 (IPv6)."""
        return self.public_ipv4 > 2 ** (32 - PUBLIC_IPV4_BOUND) or self.public_ipv6 > 2 ** (128 - PUBLIC_IPV6_BOUND)

    def describe(self) -> str:
        """``2147483648 public IPv4 addresses (more than a /24)``, for messages."""
        parts = []
        if self.public_ipv4 > 2 ** (32 - PUBLIC_IPV4_BOUND):
            parts.append(f"{self.public_ipv4} public IPv4 addresses (more than a /{PUBLIC_IPV4_BOUND})")
        if self.public_ipv6 > 2 ** (128 - PUBLIC_IPV6_BOUND):
            parts.append(f"2^{self.public_ipv6.bit_length() - 1}+ public IPv6 addresses (more than a /{PUBLIC_IPV6_BOUND})")
        return " and ".join(parts) or "no more public space than the bound"


def exposure(sources: Iterable[object]) -> Exposure:
    """The public address space admitted by the union of ``sources`` (CIDR strings; ``None``,
    non-strings and Terraform references are set aside as unjudged)."""
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    judged: list[str] = []
    unjudged: list[str] = []
    for value in sources:
        if not isinstance(value, str) or not value:
            continue
        try:
            network = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            unjudged.append(value)
            continue
        judged.append(value)
        (v4 if network.version == 4 else v6).append(network)  # type: ignore[arg-type]
    return Exposure(tuple(judged), _covered(v4, PUBLIC_IPV4), _covered(v6, PUBLIC_IPV6), tuple(unjudged))


def _listed(value: object) -> list[object]:
    # A list given as one token (a reference) is a string that is not a CIDR: unjudged.
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value] if value is not None else []


def rule_sources(rule: Mapping[str, Any]) -> list[object]:
    """The CIDR sources of one ingress rule in any of its Terraform forms: an inline
    ``ingress`` block or ``aws_security_group_rule`` (``cidr_blocks``, ``ipv6_cidr_blocks``),
    or ``aws_vpc_security_group_ingress_rule`` (``cidr_ipv4``, ``cidr_ipv6``).
    Prefix lists and source security groups are not address space and are left aside."""
    return [
        *_listed(rule.get("cidr_blocks")),
        *_listed(rule.get("ipv6_cidr_blocks")),
        *_listed(rule.get("cidr_ipv4")),
        *_listed(rule.get("cidr_ipv6")),
    ]


def rule_exposure(rule: Mapping[str, Any]) -> Exposure:
    """What one ingress rule admits from public address space; it is open to the internet
    when the result is :attr:`Exposure.too_broad`."""
    return exposure(rule_sources(rule))


INGRESS_RESOURCE_TYPES = ("aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule")
"""The resource types that can hold ingress rules (see :func:`ingress_rules`)."""


def ingress_rules(rtype: str, address: str, body: Mapping[str, Any]) -> tuple[str, list[Mapping[str, Any]]]:
    """The ingress rules a resource (Terraform JSON ``body`` of type ``rtype`` at ``address``)
    holds, and the security group they belong to, as written: a group's inline ``ingress``
    blocks (group ``${aws_security_group.<name>.id}``), an ``aws_security_group_rule`` of
    type ``ingress`` or an ``aws_vpc_security_group_ingress_rule`` (group: its
    ``security_group_id``). Any other resource holds none: ``("", [])``."""
    if rtype == "aws_security_group":
        return "${" + address + ".id}", nested_blocks(body.get("ingress"))
    if rtype == "aws_vpc_security_group_ingress_rule" or (
        rtype == "aws_security_group_rule" and body.get("type") == "ingress"
    ):
        return str(body.get("security_group_id")), [body]
    return "", []


def nested_blocks(value: object) -> list[Mapping[str, Any]]:
    """A nested block as cdktf writes it: one object, or a list of objects (else none)."""
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, Mapping)]
    return []


def describe_rule(rule: Mapping[str, Any], sources: Iterable[str]) -> str:
    """``tcp 5432-5432 from 0.0.0.0/1``."""
    protocol = rule.get("protocol", rule.get("ip_protocol", "?"))
    return f"{protocol} {rule.get('from_port', '*')}-{rule.get('to_port', '*')} from {', '.join(sources)}"


@dataclass(frozen=True)
class IngressFinding:
    """An ingress rule, or a security group's rules together, admitting too much public space."""

    address: str
    """The resource holding the rule (``aws_security_group.db``), or the group the rules belong to."""
    description: str
    """What is admitted: ``tcp 5432-5432 from 0.0.0.0/1``."""
    exposure: Exposure


def ingress_findings(resources: Mapping[str, Mapping[str, Any]]) -> list[IngressFinding]:
    """Every ingress rule of a stack (Terraform JSON ``resource`` section) whose sources are
    too broad, and every security group whose rules are each within the bound but together
    are not (rules are grouped by ``security_group_id`` as written)."""
    findings: list[IngressFinding] = []
    groups: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for rtype, items in resources.items():
        if not isinstance(items, Mapping):
            continue
        for name, body in items.items():
            if not isinstance(body, Mapping):
                continue
            address = f"{rtype}.{name}"
            group, rules = ingress_rules(rtype, address, body)
            for rule in rules:
                groups.setdefault(group, []).append((address, rule))
    for group, members in sorted(groups.items()):
        flagged = False
        for address, rule in members:
            found = rule_exposure(rule)
            if found.too_broad:
                flagged = True
                findings.append(IngressFinding(address, describe_rule(rule, found.sources), found))
        union = exposure(source for _, rule in members for source in rule_sources(rule))
        if union.too_broad and not flagged:
            owner = group[2:-4] if group.startswith("${") and group.endswith(".id}") else group
            findings.append(
                IngressFinding(owner, f"{len(members)} rules together from {', '.join(union.sources)}", union)
            )
    return sorted(set(findings), key=lambda f: (f.address, f.description))


# --- IAM -------------------------------------------------------------------------------

BROAD_MANAGED_POLICY = re.compile(r":policy/(?:[\w+=,.@-]+/)*(AdministratorAccess|PowerUserAccess|\w*FullAccess)$")
"""Managed policies that grant (nearly) everything in a service or account: the
administrator and power-user policies and every ``*FullAccess`` policy. Never least
privilege: the IAM constructs refuse them, the review flags their attachment."""


def is_broad_managed_policy(arn: object) -> bool:
    return isinstance(arn, str) and BROAD_MANAGED_POLICY.search(arn) is not None


# --- Data -------------------------------------------------------------------------------

DATA_RESOURCE_TYPES = frozenset(
    {
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_rds_global_cluster",
        "aws_s3_bucket",
        "aws_dynamodb_table",
        "aws_opensearch_domain",
        "aws_elasticsearch_domain",
        "aws_eks_cluster",
        "aws_kms_key",
        "aws_efs_file_system",
        "aws_elasticache_replication_group",
        "aws_elasticache_cluster",
        "aws_ecr_repository",
        "aws_secretsmanager_secret",
        "aws_ebs_volume",
        "aws_backup_vault",
    }
)
"""Resource types whose destruction loses data (or, for KMS keys, the data they encrypt;
for an EKS cluster, every workload's state in it)."""

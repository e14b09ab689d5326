"""The managed add-ons of an :class:`~constructs_lib.compute.eks_cluster.EksCluster`.

What one add-on is (:class:`Addon`, with the IRSA role of its controller,
:class:`AddonServiceAccount`) and the rules a cluster's set of them follows
(:func:`validate_addons`). The cluster creates them and orders them around its node
groups (``EksCluster.add_node_group``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from constructs_lib.errors import ValidationError

REQUIRED_ADDONS = ("vpc-cni", "kube-proxy", "coredns")
BEFORE_COMPUTE_ADDONS = ("vpc-cni", "kube-proxy")
_PINNED_VERSION = re.compile(r"v\d+\.\d+\.\d+-eksbuild\.\d+")


@dataclass(frozen=True)
class AddonServiceAccount:
    """The IRSA role an add-on's controller runs as."""

    role_name: str
    """Name of the IAM role to create."""
    namespace: str
    service_account: str
    managed_policies: tuple[str, ...]
    """AWS managed policies attached to the role, by path and name
    (``service-role/AmazonEBSCSIDriverPolicy``)."""


@dataclass(frozen=True)
class Addon:
    """An EKS managed add-on at a pinned version."""

    name: str
    """Add-on name, e.g. ``vpc-cni``."""
    version: str
    """Build, ``v<x.y.z>-eksbuild.<n>``; must be published for the cluster's Kubernetes version."""
    before_compute: bool = False
    """Install before any node group (nodes need it to become Ready). Default: after
    the node groups, because add-ons that run Deployments never become ACTIVE without nodes."""
    service_account: AddonServiceAccount | None = None
    """IRSA role of the add-on's controller. Default: none (the node role's permissions)."""
    log_group_names: tuple[str, ...] = ()
    """CloudWatch log groups the add-on writes to. They are created before it, encrypted
    with ``log_kms_key_arn`` and retained ``log_retention_days``, so that the add-on
    never creates unencrypted, never-expiring ones itself. Default: none."""


def validate_addons(where: str, addons: Sequence[Addon], taken_log_groups: Sequence[str] = ()) -> None:
    """Raise unless ``addons`` holds each add-on once, the required ones, the networking ones
    before compute, distinct log groups none of which is in ``taken_log_groups``, and pinned
    versions."""
    names = [a.name for a in addons]
    if len(set(names)) != len(names):
        raise ValidationError(f"{where}: addons must not repeat an add-on, got {names!r}")
    # The cluster's bootstrap_self_managed_addons is off: without these, nodes never become
    # Ready (no CNI), Services do not route (no kube-proxy) and names do not resolve.
    for required in REQUIRED_ADDONS:
        if required not in names:
            raise ValidationError(f"{where}: addons must include {required!r}, got {names!r}")
    for addon in addons:
        if addon.name in BEFORE_COMPUTE_ADDONS and not addon.before_compute:
            raise ValidationError(f"{where}: add-on {addon.name} must be installed before_compute=True")
    log_groups = [name for addon in addons for name in addon.log_group_names]
    if len(set(log_groups)) != len(log_groups) or set(log_groups) & set(taken_log_groups):
        raise ValidationError(f"{where}: add-on log_group_names must be distinct, got {log_groups!r}")
    for addon in addons:
        if not _PINNED_VERSION.fullmatch(addon.version):
            raise ValidationError(
                f"{where}: add-on {addon.name} version must be pinned as v<x.y.z>-eksbuild.<n>, got {addon.version!r}"
            )

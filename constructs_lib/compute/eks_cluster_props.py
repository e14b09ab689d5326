"""Props of :class:`~constructs_lib.compute.eks_cluster.EksCluster` and the values they are
checked against; ``eks:`` in the configuration reads the log types and the support types.
No cdktf here (``constructs_lib/__init__.py`` says why).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from constructs_lib.compute.eks_addons import Addon

ALL_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
SUPPORT_TYPES = ("STANDARD", "EXTENDED")
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
ACCESS_POLICIES = (CLUSTER_ADMIN_POLICY, "AmazonEKSAdminPolicy", "AmazonEKSAdminViewPolicy", "AmazonEKSEditPolicy", "AmazonEKSViewPolicy")
"""The EKS cluster access policies an access entry may carry
(https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html)."""


@dataclass(frozen=True)
class ClusterAccess:
    """An IAM role let into the cluster through an EKS access entry, at cluster scope."""

    name: str
    """Short name of the grant (``deploy``); names the access entry's construct, so the
    ARN may be a reference to another stack's role."""
    principal_arn: str
    """The IAM role (an ARN or a reference to one)."""
    access_policy: str = CLUSTER_ADMIN_POLICY
    """One of :data:`ACCESS_POLICIES`. Default: ``AmazonEKSClusterAdminPolicy``."""


@dataclass(frozen=True)
class EksClusterProps:
    cluster_name: str
    """Cluster name (checked against EKS's limits); also names the log group."""
    kubernetes_version: str
    """Kubernetes minor version, e.g. ``"1.33"``."""
    vpc_id: str
    """VPC of the cluster (for the node security group)."""
    subnet_ids: Sequence[str]
    """Subnets of the control-plane network interfaces: the private subnets, one per AZ (at least two AZs)."""
    role_name: str
    """Name of the cluster IAM role this construct creates."""
    secrets_kms_key_arn: str
    """KMS key that envelope-encrypts Kubernetes secrets (the security stack's ``eks`` key)."""
    log_kms_key_arn: str
    """KMS key of the control-plane log group (the security stack's ``logs`` key)."""
    log_retention_days: int
    """Retention of the control-plane logs, in days (a CloudWatch Logs value)."""
    node_security_group_name: str
    """Name of the node security group this construct creates."""
    endpoint_public_access: bool = False
    """Also expose the API endpoint on the internet. Default: private only."""
    public_access_cidrs: tuple[str, ...] = ()
    """Sources allowed to the public endpoint; required with ``endpoint_public_access``,
    refused without it, ``/0`` always refused. Default: none."""
    log_types: tuple[str, ...] = ALL_LOG_TYPES
    """Control-plane log types. Default: all five."""
    access: tuple[ClusterAccess, ...] = ()
    """IAM roles let into the cluster through access entries. The creator gets no implicit
    rights, so the role that deploys the Kubernetes stacks must be here. Default: none."""
    addons: tuple[Addon, ...] = ()
    """Managed add-ons; must include ``vpc-cni`` and ``kube-proxy`` (``before_compute=True``)
    and ``coredns``, since EKS installs no unmanaged copies. Default: none (refused)."""
    support_type: str = "STANDARD"
    """``STANDARD`` or ``EXTENDED`` (paid) version support. Default: ``STANDARD``."""

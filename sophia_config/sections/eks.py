"""``eks:``: the Kubernetes control plane of an environment (``compute`` stack).

The Kubernetes version and the add-on versions move together: each add-on
build is published for a range of Kubernetes minors, so an upgrade bumps
``kubernetes_version`` and every entry of ``addons`` in the same change
(``aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>``
lists the builds). kube-proxy and the cluster-autoscaler must match the Kubernetes
minor exactly; those rules are checked here.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from constructs_lib.compute.eks_cluster_props import ALL_LOG_TYPES, SUPPORT_TYPES, EksClusterProps
from sophia_config.types import Model

LogType = Literal[ALL_LOG_TYPES]  # type: ignore[valid-type]
AddonVersion = Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")]


def _public_cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"invalid CIDR: {exc}") from None
    if network.prefixlen == 0:
        # An API server open to the internet is the one mistake this list exists to prevent.
        raise ValueError("the EKS API endpoint must not be open to the whole internet (/0)")
    return str(network)


PublicCidr = Annotated[str, AfterValidator(_public_cidr)]


class EksAddonVersions(Model):
    """Pinned versions of the EKS managed add-ons (``v<x.y.z>-eksbuild.<n>``)."""

    vpc_cni: AddonVersion
    """``vpc-cni``: pod networking; installed before any node joins."""
    kube_proxy: AddonVersion
    """``kube-proxy``: its minor must equal ``kubernetes_version``."""
    coredns: AddonVersion
    """``coredns``: cluster DNS; installed once nodes exist to run it."""
    aws_ebs_csi_driver: AddonVersion
    """``aws-ebs-csi-driver``: EBS volumes for PersistentVolumeClaims (IRSA role)."""
    metrics_server: AddonVersion
    """``metrics-server`` (EKS community add-on): the resource metrics API that the model
    servers' HorizontalPodAutoscalers scale on; without it every HPA reports
    ``<unknown>`` and never scales."""
    amazon_cloudwatch_observability: AddonVersion
    """``amazon-cloudwatch-observability``: Container Insights metrics (node memory, GPU)
    and container logs (IRSA role). Keep it below v6: v6 publishes OpenTelemetry
    metrics instead of the ``ContainerInsights`` namespace the monitoring stack reads."""

    @model_validator(mode="after")
    def _classic_container_insights(self) -> EksAddonVersions:
        major = int(self.amazon_cloudwatch_observability[1:].split(".")[0])
        if major >= 6:
            raise ValueError(
                f"amazon_cloudwatch_observability {self.amazon_cloudwatch_observability!r} publishes OpenTelemetry "
                "metrics, not the ContainerInsights namespace the monitoring stack reads: use a version below v6"
            )
        return self


class ClusterAutoscalerConfig(Model):
    """The node autoscaler (``constructs_lib/compute/cluster_autoscaler.py``), deployed by ``ai-workloads``."""

    version: Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+$")]
    """Release of ``registry.k8s.io/autoscaling/cluster-autoscaler``, e.g. ``v1.33.6``: its
    minor must equal ``kubernetes_version`` (each release supports only its own minor)."""


class EksConfig(Model):
    """The EKS cluster: version, API endpoint exposure, logging, add-ons. Its administrators are
    the roles of the account baseline (``baseline-<env>``), not configuration."""

    kubernetes_version: Annotated[str, Field(pattern=r"^1\.\d{2}$")]
    """Kubernetes minor version of the control plane and node groups, e.g. ``"1.33"``."""
    support_type: Literal[SUPPORT_TYPES] = EksClusterProps.support_type  # type: ignore[valid-type]
    """``STANDARD``: EKS upgrades the cluster when standard support ends;
    ``EXTENDED``: stay on the version (paid extended support)."""
    endpoint_public_access: bool = False
    """Expose the Kubernetes API endpoint on the internet as well as in the VPC.
    Default: private only (reach it through the VPC, a VPN or a bastion)."""
    public_access_cidrs: list[PublicCidr] = []
    """Source CIDRs allowed to the public endpoint; required (non-empty) when
    ``endpoint_public_access`` is true, and empty otherwise. ``/0`` is refused."""
    log_types: Annotated[list[LogType], Field(min_length=1)] = list(ALL_LOG_TYPES)
    """Control-plane log types sent to CloudWatch Logs. Default: all five."""
    addons: EksAddonVersions
    cluster_autoscaler: ClusterAutoscalerConfig

    @model_validator(mode="after")
    def _consistent(self) -> EksConfig:
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise ValueError(
                "public_access_cidrs must list the allowed source CIDRs when endpoint_public_access is true, got []"
            )
        if not self.endpoint_public_access and self.public_access_cidrs:
            raise ValueError(
                f"public_access_cidrs must be empty when endpoint_public_access is false, got {self.public_access_cidrs!r}"
            )
        if len(set(self.log_types)) != len(self.log_types):
            raise ValueError(f"log_types must not repeat a type, got {self.log_types!r}")
        minor = re.match(r"^v(\d+\.\d+)\.", self.addons.kube_proxy).group(1)  # type: ignore[union-attr]
        if minor != self.kubernetes_version:
            raise ValueError(
                f"addons.kube_proxy {self.addons.kube_proxy!r} does not match kubernetes_version "
                f"{self.kubernetes_version!r}: bump the add-ons with the cluster version"
            )
        autoscaler_minor = ".".join(self.cluster_autoscaler.version[1:].split(".")[:2])
        if autoscaler_minor != self.kubernetes_version:
            raise ValueError(
                f"cluster_autoscaler.version {self.cluster_autoscaler.version!r} does not match kubernetes_version "
                f"{self.kubernetes_version!r}: use a v{self.kubernetes_version}.x release of cluster-autoscaler"
            )
        return self

"""``models:``: the model servers deployed on the EKS cluster, one entry per model."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from constructs_lib.quantities import CPU_PATTERN, MEMORY_PATTERN
from sophia_config.types import Model

# Kubernetes names (RFC 1123 label); "model-" is prepended, so 57 characters remain.
ModelName = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", max_length=57)]
# CPU in cores or millicores ("500m", "2"), memory with a binary suffix ("512Mi", "4Gi").
CpuQuantity = Annotated[str, Field(pattern=CPU_PATTERN.pattern)]
MemoryQuantity = Annotated[str, Field(pattern=MEMORY_PATTERN.pattern)]
Percent = Annotated[int, Field(ge=1, le=100)]

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def _image(value: str) -> str:
    if _DIGEST.fullmatch(value):
        return value
    if not _TAG.fullmatch(value):
        raise ValueError("must be an image tag ([A-Za-z0-9_.-], up to 128 characters) or a digest 'sha256:<64 hex>'")
    if value == "latest":
        raise ValueError("'latest' is not a release: pin an immutable tag or a digest")
    return value


ImageRef = Annotated[str, AfterValidator(_image)]


class Resources(Model):
    """Container requests and limits (Kubernetes quantities)."""

    cpu_request: CpuQuantity
    memory_request: MemoryQuantity
    cpu_limit: CpuQuantity
    memory_limit: MemoryQuantity


class ModelConfig(Model):
    """One model server."""

    name: ModelName
    """Model name; the Deployment, Service and namespace are ``model-<name>``."""
    version: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]
    """Version label on the pods (a Kubernetes label value)."""
    image: ImageRef
    """Tag in the model registry (immutable there) or digest ``sha256:...``."""
    gpu_enabled: bool
    """Request one NVIDIA GPU and run on the GPU node group."""
    min_replicas: Annotated[int, Field(ge=1)]
    max_replicas: Annotated[int, Field(ge=1)]
    cpu_target_percent: Percent
    """HPA target: average CPU utilisation of the requests."""
    memory_target_percent: Percent
    """HPA target: average memory utilisation of the requests."""
    resources: Resources
    latency_threshold_ms: Annotated[int, Field(ge=1)]
    """p95 inference latency (ms) above which the monitoring stack alarms (issue 5: p95)."""
    pod_disruption_budget: bool
    """Keep all but one replica running during voluntary disruptions (node drains, upgrades)."""

    @model_validator(mode="after")
    def _replicas(self) -> ModelConfig:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas must be <= max_replicas, got min_replicas={self.min_replicas}, "
                f"max_replicas={self.max_replicas}"
            )
        # The registry keeps the last N images per "<name>-" tag prefix; a tag outside that
        # prefix would escape the model's retention rule (and could fall under another's).
        if not _DIGEST.fullmatch(self.image) and not self.image.startswith(f"{self.name}-"):
            raise ValueError(f"image tag must start with '{self.name}-' (the model's release prefix), got {self.image!r}")
        return self

    def image_reference(self, repository_url: str) -> str:
        """The full image reference in ``repository_url`` (``repo:tag`` or ``repo@sha256:...``)."""
        separator = "@" if _DIGEST.fullmatch(self.image) else ":"
        return f"{repository_url}{separator}{self.image}"


def _unique(models: list[ModelConfig]) -> list[ModelConfig]:
    names = [m.name for m in models]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"model names must be unique, got duplicates {duplicates}")
    return models


Models = Annotated[list[ModelConfig], AfterValidator(_unique)]

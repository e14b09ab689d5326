"""Props of :class:`~constructs_lib.ai.model_registry.ModelRegistry` and how long it keeps images
and artifacts (:class:`RegistryRetention`, the configuration's ``model_registry:``). No cdktf
here (``constructs_lib/__init__.py`` says why).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.errors import ValidationError
from constructs_lib.limits import bounded, check_limits


@dataclass(frozen=True)
class RegistryRetention:
    """How long the registry keeps images and artifacts; checked when created.

    Also the type of the configuration's ``model_registry:``: these defaults and limits are the only ones."""

    untagged_image_expiry_days: int = bounded(7, ge=1, le=365)
    """Days after which an untagged image (a failed or superseded push) is expired. Default: 7."""
    keep_last_releases: int = bounded(30, ge=1, le=10000)
    """Tagged images kept per release prefix (per model); older ones are expired. Must exceed the
    versions that can be deployed or rolled back to at once. Default: 30."""
    artifacts_glacier_days: int = bounded(90, ge=1)
    """Days after which current objects under ``models/`` move to S3 Glacier Flexible Retrieval. Default: 90."""
    artifacts_noncurrent_glacier_days: int = bounded(30, ge=1)
    """Days after which superseded (noncurrent) artifact versions move to Glacier. Default: 30."""
    artifacts_noncurrent_expiry_days: int = bounded(365, ge=1)
    """Days after which noncurrent artifact versions are deleted; more than the Glacier days. Default: 365."""

    def __post_init__(self) -> None:
        check_limits(self)
        if self.artifacts_noncurrent_expiry_days <= self.artifacts_noncurrent_glacier_days:
            raise ValidationError(
                f"RegistryRetention: artifacts_noncurrent_expiry_days ({self.artifacts_noncurrent_expiry_days}) "
                f"must be greater than artifacts_noncurrent_glacier_days ({self.artifacts_noncurrent_glacier_days})"
            )


@dataclass(frozen=True)
class ModelRegistryProps:
    repository_name: str
    """ECR repository for model-server images (checked against ECR's naming rules)."""
    bucket_name: str
    """Bucket for model artifacts (weights, tokenizers, evaluation reports)."""
    kms_key_arn: str
    """KMS key encrypting the images and the artifacts (the security stack's ``data`` key)."""
    release_tag_prefixes: tuple[str, ...] = ()
    """Tag prefixes of release images, one per model (``"bert-base-"``). For each prefix
    the last ``keep_last_releases`` images are kept and older ones expired.
    Default: none (tagged images are never expired)."""
    retention: RegistryRetention = RegistryRetention()
    """How long images and artifacts are kept. Default: :class:`RegistryRetention`'s defaults."""
    force_delete: bool = False
    """Let ``terraform destroy`` delete a repository that still holds images and a
    non-empty bucket. Default: off; only for throw-away environments."""

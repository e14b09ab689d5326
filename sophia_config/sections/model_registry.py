"""``model_registry:``: how long the model registry keeps images and artifacts."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sophia_config.types import Model


class ModelRegistryConfig(Model):
    """The ECR repository of model images and the model-artifacts bucket."""

    untagged_image_expiry_days: Annotated[int, Field(ge=1, le=365)]
    """Days after which an untagged image (a failed or superseded push) is expired."""
    keep_last_releases: Annotated[int, Field(ge=1, le=1000)]
    """Tagged images kept per model (tag prefix ``<model>-``); older ones are expired.
    Must exceed the number of versions that can be deployed or rolled back to at once."""
    artifacts_glacier_days: Annotated[int, Field(ge=1)]
    """Days after which current objects under ``models/`` move to S3 Glacier Flexible Retrieval."""
    artifacts_noncurrent_glacier_days: Annotated[int, Field(ge=1)]
    """Days after which superseded (noncurrent) artifact versions move to Glacier."""
    artifacts_noncurrent_expiry_days: Annotated[int, Field(ge=1)]
    """Days after which noncurrent artifact versions are deleted."""

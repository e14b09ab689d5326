"""``storage:``: rules every ``SecureBucket`` of the environment follows."""

from __future__ import annotations

from sophia_config.types import Model


class StorageConfig(Model):
    """Environment-wide S3 bucket policy."""

    force_destroy_buckets: bool
    """Let ``terraform destroy`` empty and delete buckets (disposable environments only).
    Refused where ``resilience.deletion_protection`` is true."""

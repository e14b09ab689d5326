"""Props of :class:`~constructs_lib.drift.aws_config_recorder.ConfigRecorder` and the values AWS
Config accepts; ``drift:`` in the configuration reads them. No cdktf here
(``constructs_lib/__init__.py`` says why).
"""

from __future__ import annotations

from dataclasses import dataclass

DELIVERY_FREQUENCIES = ("One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours")
RECORDING_FREQUENCIES = ("CONTINUOUS", "DAILY")
MIN_HISTORY_RETENTION_DAYS = 30


@dataclass(frozen=True)
class ConfigRecorderProps:
    name: str
    """Name of the recorder and of the delivery channel."""
    bucket_name: str
    """Bucket for configuration history and snapshots (created here as a ``SecureBucket``)."""
    bucket_kms_key_arn: str
    """Key of the bucket and of the delivered objects (the ``logs`` key)."""
    role_name: str
    """Name of the recorder's IAM role."""
    topic_name: str
    """Name of the SNS topic Config notifies of changes."""
    include_global_resources: bool = True
    """Record IAM and other global resources; true in one region per account only. Default: on."""
    recording_frequency: str = "CONTINUOUS"
    """``CONTINUOUS`` (every change) or ``DAILY`` (cheaper; short-lived drift missed). Default: continuous."""
    delivery_frequency: str = "TwentyFour_Hours"
    """Configuration snapshot frequency. Default: daily."""
    history_retention_days: int = 2557
    """Days the history is kept (noncurrent versions 30 more). Default: 7 years."""
    force_destroy_bucket: bool = False
    """Let ``terraform destroy`` empty the bucket (config ``storage.force_destroy_buckets``). Default: off."""

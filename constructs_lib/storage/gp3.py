"""gp3 EBS volume limits, for every construct that sizes a gp3 volume (node root volumes,
OpenSearch data volumes) and for the configuration fields that feed them.

https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html#gp3-ebs-volume-type
"""

BASELINE_IOPS = 3000
"""IOPS every gp3 volume has, included in its price."""
MAX_IOPS = 16000
BASELINE_THROUGHPUT_MIBPS = 125
"""Throughput every gp3 volume has, included in its price."""
MAX_THROUGHPUT_MIBPS = 1000
MAX_IOPS_PER_GIB = 500
"""Provisioned IOPS above the baseline need this many GiB of volume each."""
MAX_MIBPS_PER_IOPS = 0.25
"""Throughput above the baseline needs 4 provisioned IOPS per MiB/s."""

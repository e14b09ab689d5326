"""ManagedNodeGroup and its RootVolume: hardened launch template, least-privilege node role, sizes checked."""

from __future__ import annotations

import pytest

from constructs_lib.compute.managed_node_group import RootVolume
from constructs_lib.errors import ValidationError


@pytest.mark.parametrize(
    "values, message",
    [
        ({"size_gib": 10}, "RootVolume: size_gib must be an integer 20..16384, got 10"),
        ({"iops": 2000}, "RootVolume: iops must be an integer 3000..16000, got 2000"),
        ({"iops": 16001}, "RootVolume: iops must be an integer 3000..16000, got 16001"),
        ({"throughput_mibps": 1001}, "RootVolume: throughput_mibps must be an integer 125..1000, got 1001"),
        ({"size_gib": True}, "RootVolume: size_gib must be an integer 20..16384, got True"),
        ({"size_gib": 20, "iops": 12000}, "iops 12000 exceeds 500 IOPS per GiB of a 20 GiB gp3 volume"),
        ({"iops": 3000, "throughput_mibps": 800}, "throughput_mibps 800 exceeds 0.25 MiB/s per provisioned IOPS \\(3000 IOPS\\)"),
    ],
)
def test_root_volume_refuses_what_gp3_refuses_with_the_value(values, message):
    with pytest.raises(ValidationError, match=message):
        RootVolume(**values)


def test_root_volume_accepts_gp3_limits_and_the_baseline_by_default():
    assert RootVolume() == RootVolume(size_gib=50, iops=3000, throughput_mibps=125, kms_key_arn=None)
    RootVolume(size_gib=32, iops=16000, throughput_mibps=1000)  # 500 IOPS/GiB, 0.25 MiB/s per IOPS: the edges

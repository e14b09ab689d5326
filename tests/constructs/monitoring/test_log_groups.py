"""LogGroups: KMS-encrypted application and component log groups with a bounded retention, in isolation."""

from __future__ import annotations

import json

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.log_groups import LogGroups, LogGroupsProps

KEY = "arn:aws:kms:us-west-2:111111111111:key/0b1c2d3e-aaaa-bbbb-cccc-000000000001"


def log_props(**changes) -> LogGroupsProps:
    values = dict(
        application_log_group_name="sophia-app-logs-dev",
        component_log_group_names=(("api", "sophia-api-logs-dev"), ("worker", "sophia-worker-logs-dev")),
        retention_days=30,
        kms_key_arn=KEY,
    )
    values.update(changes)
    return LogGroupsProps(**values)


def test_log_groups_are_encrypted_with_bounded_retention():
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    groups = LogGroups(stack, "logs", log_props(retention_days=90))
    synthesized = json.loads(CdktfTesting.synth(stack))["resource"]["aws_cloudwatch_log_group"]
    assert sorted(g["name"] for g in synthesized.values()) == [
        "sophia-api-logs-dev",
        "sophia-app-logs-dev",
        "sophia-worker-logs-dev",
    ]
    for group in synthesized.values():
        assert group["kms_key_id"] == KEY
        assert group["retention_in_days"] == 90
    assert groups.log_group_names == ("sophia-app-logs-dev", "sophia-api-logs-dev", "sophia-worker-logs-dev")
    assert groups.component_log_group_names == {"api": "sophia-api-logs-dev", "worker": "sophia-worker-logs-dev"}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"retention_days": 45}, "retention_days must be one of .*got 45"),
        ({"kms_key_arn": "alias/sophia/dev/logs"}, "kms_key_arn must be a KMS key ARN"),
        ({"component_log_group_names": (("api", "sophia-app-logs-dev"),)}, "log group names must be unique"),
        ({"component_log_group_names": (("API", "x"),)}, "component 'API'"),
        ({"log_group_class": "COLD"}, "log_group_class must be"),
    ],
)
def test_log_groups_validation(changes, message):
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(ValidationError, match=message):
        LogGroups(stack, "logs", log_props(**changes))

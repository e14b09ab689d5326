"""EncryptedLogGroup: every log group is KMS-encrypted and expires; its construct path is the caller's."""

from __future__ import annotations

import pytest

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.encrypted_log_group import LOG_RETENTION_DAYS, EncryptedLogGroup, EncryptedLogGroupProps
from constructs_lib.naming import NamingError
from tests.constructs.support import synth

KEY = "arn:aws:kms:us-west-2:111111111111:key/logs"


def build(**values) -> dict:
    props = EncryptedLogGroupProps(**{"name": "/sophia/app-dev", "retention_days": 30, "kms_key_arn": KEY, **values})
    return synth(lambda stack: EncryptedLogGroup(stack, "app-logs", props))


def test_group_is_encrypted_retained_and_has_the_callers_address():
    ((key, group),) = build()["resource"]["aws_cloudwatch_log_group"].items()
    assert group["kms_key_id"] == KEY and group["retention_in_days"] == 30 and group["name"] == "/sophia/app-dev"
    # Created in the caller's scope: the Terraform address is the id the caller gave.
    assert key == "app-logs"
    assert "log_group_class" not in group
    (infrequent,) = build(log_group_class="INFREQUENT_ACCESS")["resource"]["aws_cloudwatch_log_group"].values()
    assert infrequent["log_group_class"] == "INFREQUENT_ACCESS"


def test_never_expiring_is_not_a_retention():
    assert 0 not in LOG_RETENTION_DAYS
    with pytest.raises(ValidationError, match="EncryptedLogGroup app-logs: retention_days must be one of .* got 0"):
        build(retention_days=0)


@pytest.mark.parametrize(
    "values, error, message",
    [
        ({"retention_days": 31}, ValidationError, "retention_days must be one of the CloudWatch Logs retentions .*got 31"),
        ({"kms_key_arn": ""}, ValidationError, "kms_key_arn is required \\(log groups are encrypted\\), got ''"),
        ({"log_group_class": "DELIVERY"}, ValidationError, "log_group_class must be STANDARD or INFREQUENT_ACCESS, got 'DELIVERY'"),
        ({"name": "bad name with spaces"}, NamingError, "LOG_GROUP"),
    ],
)
def test_bad_props_are_refused_with_the_value(values, error, message):
    with pytest.raises(error, match=message):
        build(**values)

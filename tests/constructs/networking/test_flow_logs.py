"""VpcFlowLogs: every flow, to an encrypted retained group, by a role only flow logs of this account can use."""

from __future__ import annotations

from dataclasses import replace

import pytest

from constructs_lib.errors import ValidationError
from constructs_lib.networking.flow_logs import VpcFlowLogs
from constructs_lib.networking.flow_logs_props import VpcFlowLogsProps
from tests.constructs.support import documents, statement, synth

KEY = "arn:aws:kms:us-west-2:111111111111:key/logs"
PROPS = VpcFlowLogsProps(
    vpc_id="vpc-1",
    log_group_name="/sophia/network/flow-logs-dev",
    role_name="sophia-network-flow-logs-dev",
    kms_key_arn=KEY,
)


def build(props: VpcFlowLogsProps = PROPS) -> dict:
    return synth(lambda stack: VpcFlowLogs(stack, "flow-logs", props))


@pytest.fixture(scope="module")
def out() -> dict:
    return build()


def only(resources: dict) -> tuple[str, dict]:
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.items()))


def test_all_traffic_goes_to_the_constructs_own_encrypted_retained_group(out):
    group_id, group = only(out["resource"]["aws_cloudwatch_log_group"])
    assert group["kms_key_id"] == KEY and group["retention_in_days"] == 365
    _, flow_log = only(out["resource"]["aws_flow_log"])
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination_type"] == "cloud-watch-logs"
    assert flow_log["log_destination"] == f"${{aws_cloudwatch_log_group.{group_id}.arn}}"
    assert flow_log["max_aggregation_interval"] == 600


def test_only_flow_logs_of_this_account_may_assume_the_role(out):
    _, role = only(out["resource"]["aws_iam_role"])
    trust_ref = role["assume_role_policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
    (trust,) = documents(out)[trust_ref]["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["vpc-flow-logs.amazonaws.com"]}]
    conditions = {c["variable"]: c for c in trust["condition"]}
    assert set(conditions) == {"aws:SourceAccount", "aws:SourceArn"}
    assert ":vpc-flow-log/*" in conditions["aws:SourceArn"]["values"][0]


def test_the_role_writes_only_its_own_group(out):
    group_id, _ = only(out["resource"]["aws_cloudwatch_log_group"])
    arn = f"${{aws_cloudwatch_log_group.{group_id}.arn}}"
    policy = next(d for d in documents(out).values() if any(s.get("sid") == "WriteOwnLogGroup" for s in d["statement"]))
    assert statement(policy, "WriteOwnLogGroup")["resources"] == [arn, f"{arn}:*"]
    # DescribeLogGroups has no per-group resource; it is the only action on a wider ARN.
    wider = [s for s in policy["statement"] if s["resources"] != [arn, f"{arn}:*"]]
    assert [s["actions"] for s in wider] == [["logs:DescribeLogGroups"]]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"traffic_type": "REJECTED"}, "traffic_type must be ALL, ACCEPT or REJECT, got 'REJECTED'"),
        ({"max_aggregation_interval": 300}, "max_aggregation_interval must be 60 or 600, got 300"),
        ({"retention_days": 0}, "retention_days must be one of the CloudWatch Logs retentions .* got 0"),
        ({"kms_key_arn": ""}, "kms_key_arn is required \\(flow logs are encrypted\\), got ''"),
    ],
)
def test_bad_props_are_refused_with_the_value(change, message):
    with pytest.raises(ValidationError, match=f"VpcFlowLogs flow-logs: {message}"):
        build(replace(PROPS, **change))

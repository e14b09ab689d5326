"""GithubActionsRunner: CodeBuild runners in private subnets, taking queued workflow jobs,
with a service role that can do nothing but run them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from constructs_lib.ci.github_actions_runner import GithubActionsRunner, GithubActionsRunnerProps
from constructs_lib.errors import ValidationError
from tests.constructs.support import documents, statement, synth

CONNECTION = "arn:aws:codeconnections:us-west-2:222222222222:connection/b7e20d14-2a6f-4c3b-8e95-41f0c6d2a902"
LOGS_KEY = "arn:aws:kms:us-west-2:222222222222:key/logs"
DATA_KEY = "arn:aws:kms:us-west-2:222222222222:key/data"
PROPS = GithubActionsRunnerProps(
    project_name="sophia-ci-runner-staging",
    repository="sophia-ai/sophia-infra",
    connection_arn=CONNECTION,
    vpc_id="vpc-0123",
    subnet_ids=["subnet-a", "subnet-b"],
    security_group_name="sophia-ci-runner-sg-staging",
    role_name="sophia-ci-runner-role-staging",
    log_group_name="/aws/codebuild/sophia-ci-runner-staging",
    log_retention_days=30,
    log_kms_key_arn=LOGS_KEY,
    encryption_key_arn=DATA_KEY,
)


@pytest.fixture(scope="module")
def out() -> dict:
    def build(stack):
        runner = GithubActionsRunner(stack, "runner", PROPS)
        runner.allow_https_to("cluster-api", "sg-cluster", "Kubernetes API")

    return synth(build)


def only(resources: dict) -> dict:
    (value,) = resources.values()
    return value


def test_project_runs_in_the_private_subnets_with_its_own_group(out):
    project = only(out["resource"]["aws_codebuild_project"])
    vpc = project["vpc_config"]
    (group_id,) = out["resource"]["aws_security_group"]
    assert vpc["vpc_id"] == "vpc-0123" and vpc["subnets"] == ["subnet-a", "subnet-b"]
    assert vpc["security_group_ids"] == [f"${{aws_security_group.{group_id}.id}}"]


def test_project_is_a_github_runner_through_the_named_connection(out):
    project = only(out["resource"]["aws_codebuild_project"])
    assert project["name"] == "sophia-ci-runner-staging"
    assert project["source"]["type"] == "GITHUB"
    assert project["source"]["location"] == "https://github.com/sophia-ai/sophia-infra.git"
    assert project["source"]["auth"] == {"type": "CODECONNECTIONS", "resource": CONNECTION}
    assert project["artifacts"] == {"type": "NO_ARTIFACTS"}
    assert project["environment"]["privileged_mode"] is False
    assert project["encryption_key"] == DATA_KEY


def test_webhook_starts_builds_for_queued_workflow_jobs_only(out):
    webhook = only(out["resource"]["aws_codebuild_webhook"])
    assert webhook["build_type"] == "BUILD"
    (group,) = webhook["filter_group"]
    assert group["filter"] == [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]


def test_logs_go_to_an_encrypted_group_and_nowhere_else(out):
    project = only(out["resource"]["aws_codebuild_project"])
    group = only(out["resource"]["aws_cloudwatch_log_group"])
    assert group["kms_key_id"] == LOGS_KEY and group["retention_in_days"] == 30
    assert project["logs_config"]["cloudwatch_logs"]["status"] == "ENABLED"
    assert project["logs_config"]["s3_logs"] == {"status": "DISABLED"}


def test_runner_group_allows_https_out_and_nothing_in(out):
    group = only(out["resource"]["aws_security_group"])
    assert "ingress" not in group and "egress" not in group  # rules are separate resources
    egress = only(out["resource"]["aws_vpc_security_group_egress_rule"])
    assert (egress["ip_protocol"], egress["from_port"], egress["to_port"]) == ("tcp", 443, 443)
    # The one ingress rule is the runner admitted elsewhere (allow_https_to), not into it.
    ingress = only(out["resource"]["aws_vpc_security_group_ingress_rule"])
    assert ingress["security_group_id"] == "sg-cluster"
    (group_id,) = out["resource"]["aws_security_group"]
    assert ingress["referenced_security_group_id"] == f"${{aws_security_group.{group_id}.id}}"
    assert (ingress["ip_protocol"], ingress["from_port"], ingress["to_port"]) == ("tcp", 443, 443)


def test_service_role_is_codebuild_for_this_project_only(out):
    role = only(out["resource"]["aws_iam_role"])
    (trust,) = documents(out)[role["assume_role_policy"].split(".")[2]]["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["codebuild.amazonaws.com"]}]
    conditions = {c["variable"]: c["values"] for c in trust["condition"]}
    assert conditions["aws:SourceArn"][0].endswith(":project/sophia-ci-runner-staging")
    assert "aws:SourceAccount" in conditions


def test_service_role_can_only_log_attach_to_the_subnets_and_use_the_connection(out):
    policy = only(out["resource"]["aws_iam_role_policy"])
    document = documents(out)[policy["policy"].split(".")[2]]
    actions = sorted(a for s in document["statement"] for a in s["actions"])
    assert not any(a.startswith(("sts:", "eks:", "iam:", "s3:")) for a in actions), actions
    assert statement(document, "GithubConnection")["resources"] == [CONNECTION]
    assert sorted(statement(document, "GithubConnection")["actions"]) == [
        "codeconnections:GetConnection",
        "codeconnections:GetConnectionToken",
        "codeconnections:UseConnection",
    ]
    logs = statement(document, "BuildLogs")
    assert logs["resources"][0].endswith(":log-stream:*")
    attach = {c["variable"]: c for c in statement(document, "AttachToSubnets")["condition"]}
    assert attach["ec2:AuthorizedService"]["values"] == ["codebuild.amazonaws.com"]
    # Only this runner's subnets: the ARNs are built from the ids (a list, or another stack's output).
    subnets = attach["ec2:Subnet"]
    assert subnets["test"] == "ArnEquals"
    assert subnets["values"].startswith("${formatlist(") and ':subnet/%s", ["subnet-a", "subnet-b"])}' in subnets["values"]
    # Write calls name their resources; only the describe calls take "*".
    for s in document["statement"]:
        if s["resources"] == ["*"]:
            assert all(a.startswith("ec2:Describe") for a in s["actions"]), s


def test_a_legacy_codestar_connection_gets_its_own_action_namespace():
    legacy = CONNECTION.replace("codeconnections", "codestar-connections")
    out = synth(lambda stack: GithubActionsRunner(stack, "runner", replace(PROPS, connection_arn=legacy)))
    policy = only(out["resource"]["aws_iam_role_policy"])
    document = documents(out)[policy["policy"].split(".")[2]]
    assert all(a.startswith("codestar-connections:") for a in statement(document, "GithubConnection")["actions"])


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(connection_arn="arn:aws:codeconnections:us-west-2:222222222222:connection/x"), "connection_arn must be a CodeConnections connection ARN"),
        (dict(compute_type="BUILD_GENERAL1_2XLARGE"), "compute_type must be one of"),
        (dict(image="ubuntu:22.04"), "image must be a CodeBuild-curated image"),
        (dict(build_timeout_minutes=600), "build_timeout_minutes must be 5..480, got 600"),
        (dict(concurrent_build_limit=0), "concurrent_build_limit must be >= 1, got 0"),
        (dict(repository="sophia-infra"), "repository must be '<owner>/<name>'"),
        (dict(log_kms_key_arn=""), "log_kms_key_arn must be a KMS key ARN"),
        (dict(log_retention_days=0), "retention_days must be one of"),
    ],
)
def test_validation_names_the_value(change, message):
    with pytest.raises(ValidationError, match=message):
        synth(lambda stack: GithubActionsRunner(stack, "runner", replace(PROPS, **change)))

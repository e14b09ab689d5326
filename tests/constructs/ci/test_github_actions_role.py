"""GithubActionsRole: only the named jobs of one repository, with the STS audience, may assume it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from constructs_lib.ci.github_actions_role import GithubActionsRole, GithubActionsRoleProps
from constructs_lib.errors import ValidationError
from constructs_lib.security.iam_role import InlinePolicy
from constructs_lib.security.policy import Statement
from tests.constructs.support import documents, synth

PROVIDER = "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com"
PROPS = GithubActionsRoleProps(
    role_name="sophia-baseline-plan-role-staging",
    description="plans",
    provider_arn=PROVIDER,
    repository="sophia-ai/sophia-infra",
    subjects=("environment:staging-drift", "pull_request"),
    inline_policies=(InlinePolicy("plan", (Statement(actions=("sts:AssumeRole",), resources=("arn:aws:iam::111111111111:role/x",)),)),),
)


@pytest.fixture(scope="module")
def trust() -> dict:
    out = synth(lambda stack: GithubActionsRole(stack, "plan", PROPS))
    (role,) = out["resource"]["aws_iam_role"].values()
    (statement,) = documents(out)[role["assume_role_policy"].split(".")[2]]["statement"]
    return statement


def test_trust_is_the_github_provider_with_web_identity(trust):
    assert trust["principals"] == [{"type": "Federated", "identifiers": [PROVIDER]}]
    assert trust["actions"] == ["sts:AssumeRoleWithWebIdentity"]


def test_trust_pins_the_audience_and_the_exact_subjects(trust):
    conditions = {c["variable"]: c for c in trust["condition"]}
    assert set(conditions) == {"token.actions.githubusercontent.com:aud", "token.actions.githubusercontent.com:sub"}
    assert conditions["token.actions.githubusercontent.com:aud"]["values"] == ["sts.amazonaws.com"]
    sub = conditions["token.actions.githubusercontent.com:sub"]
    # StringEquals, never StringLike: a pattern would let other branches or environments in.
    assert sub["test"] == "StringEquals"
    assert sub["values"] == [
        "repo:sophia-ai/sophia-infra:environment:staging-drift",
        "repo:sophia-ai/sophia-infra:pull_request",
    ]


def test_subject_claims_are_exposed():
    claims = []
    synth(lambda stack: claims.append(GithubActionsRole(stack, "r", PROPS).subject_claims))
    assert claims == [("repo:sophia-ai/sophia-infra:environment:staging-drift", "repo:sophia-ai/sophia-infra:pull_request")]


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(subjects=("*",)), "exact, no wildcard\\), got '\\*'"),
        (dict(subjects=("environment:*",)), "got 'environment:\\*'"),
        (dict(subjects=("ref:refs/heads/*",)), "got 'ref:refs/heads/\\*'"),
        (dict(subjects=()), "subjects must name at least one job kind"),
        (dict(subjects=("pull_request", "pull_request")), "subjects must not repeat"),
        (dict(repository="sophia-infra"), "repository must be '<owner>/<name>', got 'sophia-infra'"),
        (dict(managed_policy_arns=("arn:aws:iam::aws:policy/AdministratorAccess",)), "must not grant administrator access"),
    ],
)
def test_validation_names_the_value(change, message):
    with pytest.raises(ValidationError, match=message):
        synth(lambda stack: GithubActionsRole(stack, "r", replace(PROPS, **change)))

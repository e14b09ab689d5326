"""GithubOidcProvider: GitHub's issuer, the STS audience only; created once per account or referred to."""

from __future__ import annotations

from constructs_lib.ci.github import GITHUB_OIDC_HOST
from constructs_lib.ci.github_oidc_provider import GithubOidcProvider, GithubOidcProviderProps
from tests.constructs.support import synth


def test_creates_the_provider_for_github_tokens_addressed_to_sts():
    out = synth(lambda stack: GithubOidcProvider(stack, "github"))
    (provider,) = out["resource"]["aws_iam_openid_connect_provider"].values()
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    # IAM trusts GitHub's issuer through its own CA library: no pinned thumbprint to rotate.
    assert "thumbprint_list" not in provider


def test_refers_to_the_accounts_provider_without_creating_one():
    arns = []
    out = synth(lambda stack: arns.append(GithubOidcProvider(stack, "github", GithubOidcProviderProps(create=False)).provider_arn))
    assert "aws_iam_openid_connect_provider" not in out.get("resource", {})
    (arn,) = arns
    assert arn.endswith(f":oidc-provider/{GITHUB_OIDC_HOST}") and ":iam::" in arn

"""``GithubOidcProvider``: the account's IAM OIDC provider for GitHub Actions tokens.

GitHub Actions jobs get a short-lived OIDC token from
``https://token.actions.githubusercontent.com``; a role trusting this provider (with
``aud`` and ``sub`` pinned, :class:`~constructs_lib.ci.github_actions_role.GithubActionsRole`)
exchanges it for AWS credentials. No access key exists anywhere.

IAM holds one provider per URL and account: where two environments share an account,
one creates it and the other refers to it (``create=False``).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from constructs_lib.ci.github import GITHUB_OIDC_HOST, STS_AUDIENCE
from constructs_lib.providers import aws


@dataclass(frozen=True)
class GithubOidcProviderProps:
    create: bool = True
    """Create the provider. Default: true. False: refer to the provider another stack of the
    same account created (its ARN is fixed by the URL)."""


class GithubOidcProvider(Construct):
    """Outputs: ``provider_arn``; ``provider`` (the resource, or None when referred to)."""

    def __init__(self, scope: Construct, id_: str, props: GithubOidcProviderProps | None = None):
        super().__init__(scope, id_)
        props = props or GithubOidcProviderProps()
        self.provider: aws.iam_openid_connect_provider.IamOpenidConnectProvider | None = None
        if props.create:
            self.provider = aws.iam_openid_connect_provider.IamOpenidConnectProvider(
                self,
                "provider",
                url=f"https://{GITHUB_OIDC_HOST}",
                client_id_list=[STS_AUDIENCE],
                # No thumbprint_list: IAM verifies GitHub's issuer against its own library of
                # trusted root CAs and ignores thumbprints for it; hashicorp/aws >= 5.81
                # leaves the argument optional.
            )
            self.provider_arn: str = self.provider.arn
        else:
            identity = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "identity")
            partition = aws.data_aws_partition.DataAwsPartition(self, "partition")
            self.provider_arn = f"arn:{partition.partition}:iam::{identity.account_id}:oidc-provider/{GITHUB_OIDC_HOST}"

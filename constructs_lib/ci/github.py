"""Facts about GitHub and its AWS connections, shared by the CI constructs and the
configuration model (no provider imports here: the model loads without jsii)."""

from __future__ import annotations

import re

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
"""Issuer of GitHub Actions tokens; the prefix of the ``:aud`` / ``:sub`` condition keys."""

STS_AUDIENCE = "sts.amazonaws.com"
"""The audience ``aws-actions/configure-aws-credentials`` requests, and the only one trusted."""

REPOSITORY = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")
"""``<owner>/<name>``: GitHub's limits on user and organization names, and on repository names."""

CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(?P<service>codeconnections|codestar-connections):[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}"
    r":connection/[0-9a-f-]{36}$"
)
"""An AWS CodeConnections connection; ``service`` is also the namespace of its IAM actions
(connections made before the 2024 rename keep ``codestar-connections``)."""

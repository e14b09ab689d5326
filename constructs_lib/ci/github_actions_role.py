"""``GithubActionsRole``: an IAM role that named GitHub Actions jobs of one repository assume.

The trust pins the token's audience (``sts.amazonaws.com``) and its subject to an exact
list: ``repo:<owner>/<name>:<subject>``. GitHub builds the subject from what the job
is (https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect):

* a job that names an ``environment:`` gets ``repo:<owner>/<name>:environment:<env>``,
  whatever event started it: the environment's protection rules (required reviewers,
  allowed branches) then guard the role;
* a job of a ``pull_request`` run without an environment gets
  ``repo:<owner>/<name>:pull_request`` (fork pull requests get no token at all);
* other jobs get ``repo:<owner>/<name>:ref:refs/heads/<branch>`` (or ``refs/tags/<tag>``).

Wildcards are refused: ``repo:<owner>/<name>:*`` would trust every branch anyone with
write access can push.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from constructs import Construct

from constructs_lib.ci.github import GITHUB_OIDC_HOST, REPOSITORY, STS_AUDIENCE
from constructs_lib.errors import ValidationError
from constructs_lib.security.iam_role import IamRole, IamRoleProps, InlinePolicy
from constructs_lib.security.policy import Condition, Principal

_SUBJECT = re.compile(r"^(environment:[A-Za-z0-9._-]+|pull_request|ref:refs/(heads|tags)/[A-Za-z0-9._/-]+)$")


@dataclass(frozen=True)
class GithubActionsRoleProps:
    role_name: str
    """Role name (IAM's limits checked)."""
    description: str
    """What the role is for (shown in the console and CloudTrail)."""
    provider_arn: str
    """ARN of the account's GitHub OIDC provider (:class:`GithubOidcProvider`)."""
    repository: str
    """``<owner>/<name>`` of the repository whose jobs may assume the role."""
    subjects: tuple[str, ...]
    """What follows ``repo:<owner>/<name>:`` in the trusted ``sub`` claims: ``environment:<env>``,
    ``pull_request`` or ``ref:refs/heads/<branch>``; exact values, no wildcard. At least one."""
    inline_policies: tuple[InlinePolicy, ...] = ()
    """Permissions (see :class:`~constructs_lib.security.iam_role.IamRole`). Default: none."""
    managed_policy_arns: tuple[str, ...] = ()
    """Managed policies (the administrator ones are refused). Default: none."""
    max_session_duration: int = 3600
    """Seconds a session lasts (3600..43200). Default: one hour."""


class GithubActionsRole(Construct):
    """Outputs: ``role_arn``, ``role_name``, ``subject_claims`` (the exact ``sub`` values trusted)."""

    def __init__(self, scope: Construct, id_: str, props: GithubActionsRoleProps):
        super().__init__(scope, id_)
        self._validate(id_, props)
        self.subject_claims: tuple[str, ...] = tuple(f"repo:{props.repository}:{s}" for s in props.subjects)
        self.role = IamRole(
            self,
            "role",
            IamRoleProps(
                role_name=props.role_name,
                description=props.description,
                assumed_by=(Principal("Federated", (props.provider_arn,)),),
                assume_actions=("sts:AssumeRoleWithWebIdentity",),
                trust_conditions=(
                    Condition("StringEquals", f"{GITHUB_OIDC_HOST}:aud", (STS_AUDIENCE,)),
                    Condition("StringEquals", f"{GITHUB_OIDC_HOST}:sub", self.subject_claims),
                ),
                inline_policies=props.inline_policies,
                managed_policy_arns=props.managed_policy_arns,
                max_session_duration=props.max_session_duration,
            ),
        )
        self.role_arn: str = self.role.role_arn
        self.role_name: str = self.role.role_name

    @staticmethod
    def _validate(id_: str, props: GithubActionsRoleProps) -> None:
        where = f"GithubActionsRole {id_}"
        if not REPOSITORY.fullmatch(props.repository):
            raise ValidationError(f"{where}: repository must be '<owner>/<name>', got {props.repository!r}")
        if not props.subjects:
            raise ValidationError(f"{where}: subjects must name at least one job kind, got ()")
        for subject in props.subjects:
            if not _SUBJECT.fullmatch(subject):
                raise ValidationError(
                    f"{where}: subjects must be 'environment:<env>', 'pull_request' or 'ref:refs/heads/<branch>' "
                    f"(exact, no wildcard), got {subject!r}"
                )
        if len(set(props.subjects)) != len(props.subjects):
            raise ValidationError(f"{where}: subjects must not repeat, got {props.subjects!r}")

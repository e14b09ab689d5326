"""``baseline:``: the account baseline of an environment (``baseline-<env>`` stack).

The GitHub OIDC provider, the deploy, plan and cluster-admin roles and the CloudTrail
trail of the environment's account. An IAM OIDC provider exists once per account and
URL: where two environments share an account, exactly one of them creates it
(``load()`` checks).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from sophia_config.types import Model


class BaselineConfig(Model):
    """What differs between environments in the account baseline."""

    github_oidc_provider: bool = True
    """Create the account's ``token.actions.githubusercontent.com`` OIDC provider. Default:
    true; false where another environment of the same account creates it."""
    pull_request_plans: bool = True
    """Let pull-request jobs (OIDC ``sub`` ``repo:<repository>:pull_request``) assume the
    read-only plan role, besides the scheduled drift job. Default: true. The plan role
    reads what a plan reads, the state and the secrets the stacks read included; turn
    it off where a pull request must not see them (production)."""
    trail_archive_days: Annotated[int, Field(ge=1)] = 90
    """Days before the trail's log files move to S3 Glacier Instant Retrieval. Default: 90."""
    trail_expiration_days: Annotated[int, Field(ge=1)] = 365
    """Days the trail's log files are kept in S3 (the CloudWatch Logs copy follows
    ``logging.retention_days``). Default: 365."""

    @model_validator(mode="after")
    def _ordered(self) -> BaselineConfig:
        if self.trail_expiration_days <= self.trail_archive_days:
            raise ValueError(
                f"trail_expiration_days must be after trail_archive_days, got {self.trail_expiration_days} "
                f"<= {self.trail_archive_days}"
            )
        return self

"""``state:`` of an environment file: how its pipeline reaches the Terraform state.

The state lives in one account (``config/project.yaml`` ``state:``). Each environment
names the role in that account its backends and remote-state reads assume; the
``state-bootstrap`` stack creates the role and lets it reach only
``<project>/<env>/`` of the bucket, the matching lock items and the key. ``load()``
refuses an environment without a role (naming why when its account is not the state
account), a role outside the state account, and two environments sharing one role.
"""

from __future__ import annotations

from sophia_config.types import Model, RoleArn


class StateAccessConfig(Model):
    """The role this environment assumes to read and write its state."""

    role_arn: RoleArn | None = None
    """Role in the state account (``arn:aws:iam::<state.account_id>:role/<name>``), created by
    ``state-bootstrap`` and trusted by this environment's account. Required (checked by
    ``load()``, which says why): the state resources grant these roles and nothing else,
    so an environment in the state account itself has one too."""

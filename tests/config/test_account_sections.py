"""The state account and each environment's role into it. Each refusal names the file,
the field and the value."""

from __future__ import annotations

import sophia_config as config
from tests.config.test_model import edit, rejected
from tests.conftest import ROOT


def test_committed_values():
    app = config.load(ROOT / "config")
    assert app.project.state.account_id == "111111111111"
    roles = {env.name: env.config.state.role_arn for env in app.environments}
    assert roles == {name: f"arn:aws:iam::111111111111:role/sophia-state-{name}" for name in ("dev", "staging", "production")}


def test_an_environment_in_another_account_without_a_state_role(config_dir):
    path = edit(config_dir, "staging.yaml", lambda d: d.pop("state"))
    message = rejected(config_dir)
    assert (
        f"{path}: state.role_arn: required: account 222222222222 differs from the state account 111111111111 "
        f"({config_dir / 'project.yaml'} state.account_id) (value None)"
    ) in message


def test_an_environment_in_the_state_account_needs_its_own_role_too(config_dir):
    path = edit(config_dir, "dev.yaml", lambda d: d.pop("state"))
    message = rejected(config_dir)
    assert f"{path}: state.role_arn: required: the state resources grant each environment's own role" in message


def test_a_state_role_outside_the_state_account(config_dir):
    role = "arn:aws:iam::222222222222:role/sophia-state-staging"
    path = edit(config_dir, "staging.yaml", lambda d: d["state"].update(role_arn=role))
    assert f"{path}: state.role_arn: must be a role of the state account 111111111111" in rejected(config_dir)
    assert repr(role) in rejected(config_dir)


def test_two_environments_cannot_share_a_state_role(config_dir):
    role = "arn:aws:iam::111111111111:role/sophia-state-dev"
    edit(config_dir, "staging.yaml", lambda d: d["state"].update(role_arn=role))
    message = rejected(config_dir)
    assert "state.role_arn: already the state role of environment 'dev'" in message


def test_a_state_role_with_a_path_is_refused(config_dir):
    role = "arn:aws:iam::111111111111:role/ci/sophia-state-dev"
    path = edit(config_dir, "dev.yaml", lambda d: d["state"].update(role_arn=role))
    assert f"{path}: state.role_arn: String should match pattern" in rejected(config_dir)


def test_the_state_account_is_required(config_dir):
    path = edit(config_dir, "project.yaml", lambda d: d["state"].pop("account_id"))
    assert f"{path}: state.account_id: missing required field" in rejected(config_dir)

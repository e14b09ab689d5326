"""The accounts: the state account and each environment's role into it, the account
baseline, the in-VPC runner, the repository. Each refusal names the file, the field
and the value."""

from __future__ import annotations

import pytest

import sophia_config as config
from tests.config.test_model import rejected
from tests.config_files import edit, move_to_account
from tests.conftest import ROOT


def test_committed_values():
    app = config.load(ROOT / "config")
    assert app.project.state.account_id == "111111111111"
    assert app.project.github.repository == "sophia-ai/sophia-infra"
    roles = {env.name: env.config.state.role_arn for env in app.environments}
    assert roles == {name: f"arn:aws:iam::111111111111:role/sophia-state-{name}" for name in ("dev", "staging", "production")}
    # A pull request never plans production (its state and secrets stay with the drift job).
    plans = {env.name: env.config.baseline.pull_request_plans for env in app.environments}
    assert plans == {"dev": True, "staging": True, "production": False}


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


@pytest.mark.parametrize("repository", ["sophia-infra", "sophia-ai/*", "org/repo/extra", "org /repo"])
def test_the_repository_is_owner_slash_name(config_dir, repository):
    path = edit(config_dir, "project.yaml", lambda d: d["github"].update(repository=repository))
    assert f"{path}: github.repository: String should match pattern" in rejected(config_dir)


def test_one_github_oidc_provider_per_account(config_dir):
    def same_account_still_creating(d):
        move_to_account(d, "111111111111")
        d["baseline"]["github_oidc_provider"] = True
        d["drift"].update(record_config=False, include_global_resources=False)

    path = edit(config_dir, "staging.yaml", same_account_still_creating)
    message = rejected(config_dir)
    assert f"{path}: baseline.github_oidc_provider: true, but {config_dir / 'dev.yaml'} already creates" in message
    assert "account 111111111111" in message


def test_an_account_whose_environments_all_refer_to_a_provider_nobody_creates(config_dir):
    path = edit(config_dir, "staging.yaml", lambda d: d["baseline"].update(github_oidc_provider=False))
    assert f"{path}: baseline.github_oidc_provider: no environment of account 222222222222 creates" in rejected(config_dir)


def test_environments_sharing_an_account_with_one_provider_are_accepted(config_dir):
    def shared(d):
        move_to_account(d, "111111111111")
        d["drift"].update(record_config=False, include_global_resources=False)

    edit(config_dir, "staging.yaml", shared)
    app = config.load(config_dir)
    assert app.environment("staging").config.baseline.github_oidc_provider is False


def test_trail_expiration_after_archive(config_dir):
    path = edit(config_dir, "dev.yaml", lambda d: d["baseline"].update(trail_archive_days=400, trail_expiration_days=365))
    assert f"{path}: baseline: trail_expiration_days must be after trail_archive_days, got 365 <= 400" in rejected(config_dir)


def test_runner_connection_must_be_in_the_environments_account_and_region(config_dir):
    other = "arn:aws:codeconnections:us-east-1:222222222222:connection/b7e20d14-2a6f-4c3b-8e95-41f0c6d2a902"
    edit(config_dir, "staging.yaml", lambda d: d["ci_runner"].update(connection_arn=other))
    message = rejected(config_dir)
    assert "ci_runner.connection_arn must be in this environment's account 222222222222 and region us-west-2" in message
    assert other in message


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda r: r.update(connection_arn="arn:aws:codeconnections:us-west-2:222222222222:connection/latest"), "connection_arn"),
        (lambda r: r.update(compute_type="BUILD_GENERAL1_2XLARGE"), "compute_type"),
        (lambda r: r.update(image="ubuntu:latest"), "image"),
        (lambda r: r.update(build_timeout_minutes=600), "build_timeout_minutes"),
        (lambda r: r.pop("connection_arn"), "connection_arn"),
    ],
)
def test_bad_runner_values(config_dir, change, field):
    path = edit(config_dir, "staging.yaml", lambda d: change(d["ci_runner"]))
    assert f"{path}: ci_runner.{field}:" in rejected(config_dir)


def test_the_runner_section_is_required(config_dir):
    path = edit(config_dir, "dev.yaml", lambda d: d.pop("ci_runner"))
    assert f"{path}: ci_runner: missing required field" in rejected(config_dir)

"""The GitHub Actions workflows cannot run here; their structure is asserted instead.

PyYAML reads YAML 1.1, where the key ``on`` is the boolean True: ``triggers()``
accepts either spelling.
"""

from __future__ import annotations

import re

import pytest
import yaml

import sophia_config as config_mod
from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
SETUP_ACTION = ROOT / ".github" / "actions" / "setup" / "action.yml"
ALL_FILES = sorted(WORKFLOWS.glob("*.yml")) + [SETUP_ACTION]


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True))


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


def uses(job: dict) -> list[str]:
    return [step["uses"] for step in steps(job) if "uses" in step]


def step_using(job: dict, action: str) -> dict:
    (step,) = [s for s in steps(job) if s.get("uses", "").startswith(action + "@")]
    return step


ENVIRONMENTS = [e.name for e in config_mod.load(ROOT / "config").environments]


def test_every_workflow_parses_and_has_a_trigger_and_jobs():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = yaml.safe_load(path.read_text())
        assert triggers(workflow), path.name
        assert workflow["jobs"], path.name


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_no_long_lived_aws_keys_and_pinned_actions(path):
    text = path.read_text()
    for forbidden in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "aws-access-key-id", "aws-secret-access-key", "AWS_SESSION_TOKEN"):
        assert forbidden not in text, f"{path.name} mentions {forbidden}"
    # The only secret a workflow may read is the job's own GITHUB_TOKEN.
    assert set(re.findall(r"secrets\.([A-Za-z_]+)", text)) <= {"GITHUB_TOKEN"}
    for action in re.findall(r"uses:\s*([^\s#]+)", text):
        assert action.startswith("./") or re.search(r"@v\d+(\.\d+)*$", action), f"{path.name}: {action} is not pinned to a release"


def test_setup_action_caches_python_and_node_dependencies():
    action = yaml.safe_load(SETUP_ACTION.read_text())
    action_steps = action["runs"]["steps"]
    python = next(s for s in action_steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["cache"] == "pip" and "requirements.lock" in python["with"]["cache-dependency-path"]
    assert any(s.get("uses", "").startswith("actions/setup-node@") and s["with"]["node-version"] == "20" for s in action_steps)
    cached = [s["with"]["path"] for s in action_steps if s.get("uses", "").startswith("actions/cache@")]
    assert ".venv" in cached and "~/.npm" in cached
    assert action["inputs"]["cdktf-cli-version"]["default"] == "0.21.0"
    terraform = next(s for s in action_steps if s.get("uses", "").startswith("hashicorp/setup-terraform@"))
    assert terraform["with"]["terraform_wrapper"] is False  # keeps plan's exit code 2


# --- pull request -------------------------------------------------------------


def test_pull_request_runs_synth_test_check_and_review_against_the_base_branch():
    workflow = load("pull-request.yml")
    assert triggers(workflow) == {"pull_request": {"branches": ["main"]}}
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    (job,) = workflow["jobs"].values()
    assert "./.github/actions/setup" in uses(job)
    assert step_using(job, "actions/checkout")["with"]["fetch-depth"] == 0  # the base ref must be there
    commands = runs(job)
    order = [commands.index(c) for c in ("make synth", "make test", "make check", 'make review BASE="origin/${{ github.base_ref }}"')]
    assert order == sorted(order)


def test_pull_request_review_is_one_sticky_comment_and_output_is_an_artifact():
    (job,) = load("pull-request.yml")["jobs"].values()
    comment = step_using(job, "marocchino/sticky-pull-request-comment")
    assert comment["with"]["header"] and comment["with"]["path"] == "review.md"
    artifact = step_using(job, "actions/upload-artifact")
    assert "cdktf.out/" in artifact["with"]["path"]
    # A failing test must not hide the review from the reviewers.
    assert "always()" in comment["if"] and "always()" in artifact["if"]


# --- deploy --------------------------------------------------------------------


def test_deploy_runs_on_push_to_main_never_cancelled():
    workflow = load("deploy.yml")
    assert triggers(workflow)["push"] == {"branches": ["main"]}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["permissions"] == {"contents": "read"}


def test_deploy_is_progressive_dev_then_staging_then_production():
    jobs = load("deploy.yml")["jobs"]
    assert jobs["dev"]["needs"] == "synth"
    assert jobs["staging"]["needs"] == "dev"
    assert jobs["production"]["needs"] == "staging"
    for env in ("dev", "staging", "production"):
        job = jobs[env]
        assert job["uses"] == "./.github/workflows/deploy-environment.yml"
        assert job["with"]["environment"] == env
        assert job["permissions"]["id-token"] == "write"
    assert sorted(("dev", "staging", "production")) == sorted(ENVIRONMENTS)


def test_each_environment_deploys_in_its_github_environment_with_an_oidc_role():
    workflow = load("deploy-environment.yml")
    assert set(triggers(workflow)) == {"workflow_call"}
    (job,) = workflow["jobs"].values()
    assert job["environment"]["name"] == "${{ inputs.environment }}"
    assert job["permissions"]["id-token"] == "write"
    credentials = step_using(job, "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert set(credentials["with"]) == {"role-to-assume", "aws-region", "role-session-name"}


def test_each_environment_deploys_waves_then_validates_then_records_the_deployment():
    (job,) = load("deploy-environment.yml")["jobs"].values()
    names = [s.get("name", "") for s in steps(job)]
    commands = [s.get("run", "") for s in steps(job)]
    deploy = next(i for i, c in enumerate(commands) if 'sophia_infra.deploy "$ENVIRONMENT" --out cdktf.out --approved-by' in c)
    validate = next(i for i, c in enumerate(commands) if "--check-drift" in c)
    record = next(i for i, c in enumerate(commands) if "git push --force origin" in c)
    credentials = next(i for i, s in enumerate(steps(job)) if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@"))
    assert credentials < deploy < validate < record
    assert "Post-deployment validation" in names[validate]
    # The reviewed, tested output is deployed, not a fresh synth.
    assert step_using(job, "actions/download-artifact")["with"]["name"] == "cdktf-out-${{ github.sha }}"
    assert "make synth" not in "\n".join(commands)


# --- drift ---------------------------------------------------------------------


def test_drift_is_scheduled_for_every_environment_and_fails_on_drift():
    workflow = load("drift.yml")
    (schedule,) = triggers(workflow)["schedule"]
    assert len(schedule["cron"].split()) == 5
    assert workflow["permissions"]["id-token"] == "write"
    job = workflow["jobs"]["drift"]
    assert sorted(job["strategy"]["matrix"]["environment"]) == sorted(ENVIRONMENTS)
    assert job["strategy"]["fail-fast"] is False
    # Its own environment: the schedule must never wait for a deployment approval.
    assert job["environment"]["name"] == "${{ matrix.environment }}-drift"
    assert step_using(job, "aws-actions/configure-aws-credentials")["with"]["role-to-assume"] == "${{ vars.AWS_DRIFT_ROLE_ARN }}"
    assert '--check-drift --out cdktf.out' in runs(job) and "set -o pipefail" in runs(job)

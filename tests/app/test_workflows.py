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
    assert set(workflow["jobs"]) == {"deploy", "deploy-kubernetes"}
    for job in workflow["jobs"].values():
        # Both jobs: the environment's reviewers approve them, their OIDC subject is environment:<env>.
        assert job["environment"]["name"] == "${{ inputs.environment }}"
        assert job["permissions"]["id-token"] == "write"
        credentials = step_using(job, "aws-actions/configure-aws-credentials")
        assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
        assert set(credentials["with"]) == {"role-to-assume", "aws-region", "role-session-name"}


def order_of(job: dict, *fragments: str) -> list[int]:
    commands = [s.get("run", "") for s in steps(job)]
    return [next(i for i, c in enumerate(commands) if fragment in c) for fragment in fragments]


def test_each_environment_deploys_waves_then_validates_then_records_the_deployment():
    jobs = load("deploy-environment.yml")["jobs"]
    aws, kubernetes = jobs["deploy"], jobs["deploy-kubernetes"]
    assert kubernetes["needs"] == "deploy"
    for job, part in ((aws, "aws"), (kubernetes, "kubernetes")):
        deploy, validate = order_of(
            job,
            f'sophia_infra.deploy "$ENVIRONMENT" --part {part} --out cdktf.out --approved-by',
            f'--check-drift --part {part} --out cdktf.out',
        )
        credentials = next(i for i, s in enumerate(steps(job)) if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@"))
        assert credentials < deploy < validate
        assert "Post-deployment validation" in steps(job)[validate]["name"]
        # The reviewed, tested output is deployed, not a fresh synth.
        assert any(s.get("with", {}).get("name") == "cdktf-out-${{ github.sha }}" for s in steps(job) if "download-artifact" in s.get("uses", ""))
        assert "make synth" not in runs(job)
    # The deployment is recorded once everything, the Kubernetes stacks included, is deployed.
    (record,) = order_of(kubernetes, 'gh api --method PATCH "repos/$GITHUB_REPOSITORY/git/refs/$ref"')
    assert record > order_of(kubernetes, "--check-drift --part kubernetes")[0]
    assert "git/refs" not in runs(aws) and "git push" not in runs(aws) and aws["permissions"]["contents"] == "read"
    # The Kubernetes job compares with, and rolls back to, the output the first job synthesized.
    assert kubernetes["env"]["PREVIOUS_ARGS"] == "${{ needs.deploy.outputs.previous-args }}"
    assert aws["outputs"]["previous-args"] == "${{ steps.previous.outputs.args }}"


def codebuild_label(environment: str) -> str:
    """The runs-on label of the in-VPC runner: ``codebuild-`` and the ci-<env> stack's
    CodeBuild project name (tests/stacks/test_ci.py ties that name to the stack)."""
    project = config_mod.load(ROOT / "config").project.name
    return f"codebuild-{project}-ci-runner-{environment}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"


def test_only_the_kubernetes_jobs_run_inside_the_vpc():
    jobs = load("deploy-environment.yml")["jobs"]
    assert jobs["deploy"]["runs-on"] == "ubuntu-latest"
    assert jobs["deploy-kubernetes"]["runs-on"] == codebuild_label("${{ inputs.environment }}")
    drift = load("drift.yml")["jobs"]["drift"]
    assert drift["strategy"]["matrix"]["part"] == ["aws", "kubernetes"]
    label = "format('codebuild-sophia-ci-runner-{0}-{1}-{2}', matrix.environment, github.run_id, github.run_attempt)"
    assert drift["runs-on"] == f"${{{{ matrix.part == 'kubernetes' && {label} || 'ubuntu-latest' }}}}"
    assert codebuild_label("dev").startswith("codebuild-sophia-ci-runner-dev-")
    # Nothing else reaches for the runner: the synth, test and review jobs stay GitHub-hosted.
    for name in ("deploy.yml", "pull-request.yml"):
        for job in load(name)["jobs"].values():
            assert "codebuild" not in str(job.get("runs-on", "")), name


def test_the_in_vpc_job_keeps_no_credentials_and_no_expressions_in_its_scripts():
    job = load("deploy-environment.yml")["jobs"]["deploy-kubernetes"]
    assert step_using(job, "actions/checkout")["with"]["persist-credentials"] is False
    assert "${{" not in runs(job)
    assert job["permissions"] == {"contents": "write", "id-token": "write"}


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
    assert '--check-drift --part "$PART" --out cdktf.out' in runs(job) and "set -o pipefail" in runs(job)
    assert job["env"]["PART"] == "${{ matrix.part }}"

"""The GitHub Actions workflows cannot run here; their structure is asserted instead.

PyYAML reads YAML 1.1, where the key ``on`` is the boolean True: ``triggers()``
accepts either spelling.

The supply-chain rules that zizmor (``make scan-workflows``) enforces are asserted here
too, so that a regression fails ``make test`` on a machine without zizmor: every action
pinned by commit SHA with its version in a comment, no ``${{ }}`` inside ``run:``,
checkouts that keep no credentials, permissions granted per job only.
"""

from __future__ import annotations

import re

import pytest

import sophia_config as config_mod
from tests.conftest import ROOT, load_yaml

WORKFLOWS = ROOT / ".github" / "workflows"
SETUP_ACTION = ROOT / ".github" / "actions" / "setup" / "action.yml"
ZIZMOR_CONFIG = ROOT / ".github" / "zizmor.yml"
ALL_FILES = sorted(WORKFLOWS.glob("*.yml")) + [SETUP_ACTION]
SETUP = "$/.github/actions/setup"


def load(name: str) -> dict:
    return load_yaml((WORKFLOWS / name).read_text())


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

# --- supply-chain rules (what zizmor checks, without zizmor) -------------------------

_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*[\"']?(?P<ref>[^\s\"'#]+)[\"']?[ \t]*(?:#[ \t]*(?P<comment>[^\n]*))?$", re.M)
_SHA_PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
_RELEASE = re.compile(r"^v\d+\.\d+\.\d+$")
_EXPANSION = re.compile(r"\$\{\{[^}]*\}\}")


def unpinned_uses(text: str) -> list[str]:
    """Every ``uses:`` of ``text`` that is not a full commit SHA followed by ``# vX.Y.Z``
    (a tag can be moved to other code; the comment says which release the SHA is).
    Actions and workflows of this repository use ``$/`` (same repository, running commit)."""
    problems = []
    for match in _USES.finditer(text):
        ref, comment = match["ref"], (match["comment"] or "").strip()
        if ref.startswith("$/"):
            continue
        if ref.startswith("./"):
            problems.append(f"{ref}: reference this repository's own actions and workflows with '$/'")
        elif not _SHA_PINNED.fullmatch(ref):
            problems.append(f"{ref}: not pinned to a full commit SHA")
        elif not _RELEASE.fullmatch(comment.split()[0] if comment else ""):
            problems.append(f"{ref}: the SHA needs its release in a comment ('# vX.Y.Z'), got {comment!r}")
    return problems


def run_expansions(node, where: str = "") -> list[str]:
    """``run:`` scripts that contain a ``${{ }}`` expansion: GitHub pastes the value into
    the script before the shell parses it, so a crafted value runs as code. Values reach
    scripts through ``env:`` instead."""
    problems = []
    if isinstance(node, dict):
        run = node.get("run")
        if isinstance(run, str) and "${{" in run:
            problems.append(f"{where or '(top)'}: run script expands {_EXPANSION.findall(run)}")
        for key, value in node.items():
            problems += run_expansions(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            problems += run_expansions(value, f"{where}[{index}]")
    return problems


def all_steps(document: dict) -> list[dict]:
    """Steps of a workflow's jobs, or of a composite action."""
    if "runs" in document:
        return document["runs"].get("steps", [])
    return [step for job in document.get("jobs", {}).values() for step in steps(job)]


def test_the_pin_rule_refuses_a_tag_a_short_sha_a_missing_version_and_a_relative_path():
    sha = "34e114876b0b11c390a56381ad16ebd13914f8d5"
    assert unpinned_uses(f"      - uses: actions/checkout@{sha} # v4.3.1\n      - uses: $/.github/actions/setup\n") == []
    bad = (
        "      - uses: actions/checkout@v4\n"
        "      - uses: actions/checkout@34e1148 # v4.3.1\n"
        f"      - uses: actions/checkout@{sha}\n"
        f"    uses: org/repo/.github/workflows/x.yml@{sha} # main\n"
        "      - uses: ./.github/actions/setup\n"
    )
    assert len(unpinned_uses(bad)) == 5


def test_the_run_rule_finds_an_expansion_in_a_workflow_and_in_a_composite_action():
    workflow = {"jobs": {"a": {"steps": [{"run": "echo ok", "env": {"X": "${{ github.head_ref }}"}}]}}}
    assert run_expansions(workflow) == []
    workflow["jobs"]["a"]["steps"].append({"run": 'make review BASE="${{ github.base_ref }}"'})
    assert run_expansions(workflow) == ["jobs.a.steps[1]: run script expands ['${{ github.base_ref }}']"]
    assert run_expansions({"runs": {"steps": [{"run": "npm i x@${{ inputs.v }}", "shell": "bash"}]}})


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha_with_its_release_in_a_comment(path):
    assert unpinned_uses(path.read_text()) == [], path.name


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_no_template_expansion_inside_a_run_script(path):
    assert run_expansions(load_yaml(path.read_text())) == [], path.name


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_every_checkout_keeps_no_credentials(path):
    # Later steps run third-party code (pip, npm, Terraform providers) and upload artifacts:
    # the job token must not be left in .git/config. The one step that writes to GitHub
    # (moving a deployed/<env> tag) gets the token in its own env instead.
    checkouts = [s for s in all_steps(load_yaml(path.read_text())) if s.get("uses", "").startswith("actions/checkout@")]
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: {step}"


# Least privilege, job by job: a new permission is a reviewed change to this table.
JOB_PERMISSIONS = {
    ("pull-request.yml", "review"): {"contents": "read", "pull-requests": "write"},
    ("deploy.yml", "synth"): {"contents": "read"},
    ("deploy.yml", "dev"): {"contents": "write", "id-token": "write"},
    ("deploy.yml", "staging"): {"contents": "write", "id-token": "write"},
    ("deploy.yml", "production"): {"contents": "write", "id-token": "write"},
    ("deploy-environment.yml", "deploy"): {"contents": "read", "id-token": "write"},
    ("deploy-environment.yml", "deploy-kubernetes"): {"contents": "write", "id-token": "write"},
    ("drift.yml", "drift"): {"contents": "read", "id-token": "write"},
}


def test_permissions_are_granted_per_job_only_and_least():
    found = {}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = load_yaml(path.read_text())
        # Nothing at the workflow level, so a new job starts with no token rights at all.
        assert workflow.get("permissions") == {}, path.name
        for name, job in workflow["jobs"].items():
            found[(path.name, name)] = job.get("permissions")
    assert found == JOB_PERMISSIONS


def zizmor_ignores(text: str) -> list[tuple[str, str, str]]:
    """``(audit, entry, reason)`` for every ignore of a zizmor config, the reason read from
    the ``# reason:`` comment block directly above the entry ('' when there is none)."""
    entries, audit, in_ignore, comment = [], None, False, []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            comment.append(stripped.lstrip("#").strip())
            continue
        if re.match(r"^  [A-Za-z0-9-]+:\s*$", line):
            audit, in_ignore = line.strip().rstrip(":"), False
        elif stripped == "ignore:":
            in_ignore = True
        elif in_ignore and stripped.startswith("- "):
            block = " ".join(comment)
            reason = block.partition("reason:")[2].strip() if block.startswith("reason:") else ""
            entries.append((audit, stripped[2:].strip(), reason))
        comment = []
    return entries


def test_the_reason_rule_refuses_an_ignore_without_a_reason():
    config = "rules:\n  a:\n    ignore:\n      # reason: because\n      - x.yml:3\n      - y.yml\n"
    assert zizmor_ignores(config) == [("a", "x.yml:3", "because"), ("a", "y.yml", "")]


def test_every_accepted_zizmor_finding_carries_its_reason_and_names_a_real_file():
    names = {p.name for p in ROOT.joinpath(".github").rglob("*.yml")}
    ignores = zizmor_ignores(ZIZMOR_CONFIG.read_text())
    assert isinstance(load_yaml(ZIZMOR_CONFIG.read_text())["rules"], dict), "the config must parse"
    for audit, entry, reason in ignores:
        assert len(reason) >= 20, f"zizmor ignore {audit}: {entry} has no '# reason:' comment"
        assert entry.split(":")[0] in names, f"zizmor ignore {audit}: {entry} names no file in .github/"
    # The scan is pinned and wired into CI next to the other checks.
    assert re.search(r"^zizmor==\d+\.\d+\.\d+$", (ROOT / "tools" / "zizmor-requirements.lock").read_text(), re.M)
    assert "--offline" in (ROOT / "Makefile").read_text() and "make scan-workflows" in (ROOT / ".ci" / "run").read_text()


def test_every_workflow_parses_and_has_a_trigger_and_jobs():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = load_yaml(path.read_text())
        assert triggers(workflow), path.name
        assert workflow["jobs"], path.name


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_no_long_lived_aws_keys(path):
    text = path.read_text()
    for forbidden in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "aws-access-key-id", "aws-secret-access-key", "AWS_SESSION_TOKEN"):
        assert forbidden not in text, f"{path.name} mentions {forbidden}"
    # The only secret a workflow may read is the job's own GITHUB_TOKEN.
    assert set(re.findall(r"secrets\.([A-Za-z_]+)", text)) <= {"GITHUB_TOKEN"}


def test_setup_action_caches_python_and_node_dependencies():
    action = load_yaml(SETUP_ACTION.read_text())
    action_steps = action["runs"]["steps"]
    python = next(s for s in action_steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["cache"] == "pip" and "requirements.lock" in python["with"]["cache-dependency-path"]
    assert any(s.get("uses", "").startswith("actions/setup-node@") and s["with"]["node-version"] == "20" for s in action_steps)
    cached = [s["with"]["path"] for s in action_steps if s.get("uses", "").startswith("actions/cache@")]
    assert ".venv" in cached and "~/.npm" in cached
    # The cdktf CLI comes from package-lock.json (make's npm ci), never a global npm install
    # of a name and version (zizmor's adhoc-packages); CI restores .venv, not node_modules/.
    assert "node_modules/.installed" in next(s["run"] for s in action_steps if "make " in s.get("run", ""))
    assert not [s for s in action_steps if "npm install" in s.get("run", "")]
    terraform = next(s for s in action_steps if s.get("uses", "").startswith("hashicorp/setup-terraform@"))
    assert terraform["with"]["terraform_wrapper"] is False  # keeps plan's exit code 2


# --- pull request -------------------------------------------------------------


def test_pull_request_runs_synth_test_check_scan_and_review_against_the_base_branch():
    workflow = load("pull-request.yml")
    assert triggers(workflow) == {"pull_request": {"branches": ["main"]}}
    (job,) = workflow["jobs"].values()
    assert SETUP in uses(job)
    assert step_using(job, "actions/checkout")["with"]["fetch-depth"] == 0  # the base ref must be there
    commands = runs(job)
    steps_in_order = ("make synth", "make test", "make check", "make scan-workflows", 'make review BASE="origin/$GITHUB_BASE_REF"')
    order = [commands.index(c) for c in steps_in_order]
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


def test_deploy_is_progressive_dev_then_staging_then_production():
    jobs = load("deploy.yml")["jobs"]
    assert jobs["dev"]["needs"] == "synth"
    assert jobs["staging"]["needs"] == "dev"
    assert jobs["production"]["needs"] == "staging"
    for env in ("dev", "staging", "production"):
        job = jobs[env]
        assert job["uses"] == "$/.github/workflows/deploy-environment.yml"
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
    # One run at a time: every plan takes its stack's state lock.
    assert workflow["concurrency"]["cancel-in-progress"] is False
    job = workflow["jobs"]["drift"]
    assert sorted(job["strategy"]["matrix"]["environment"]) == sorted(ENVIRONMENTS)
    assert job["strategy"]["fail-fast"] is False
    # Its own environment: the schedule must never wait for a deployment approval.
    assert job["environment"]["name"] == "${{ matrix.environment }}-drift"
    assert step_using(job, "aws-actions/configure-aws-credentials")["with"]["role-to-assume"] == "${{ vars.AWS_DRIFT_ROLE_ARN }}"
    assert '--check-drift --part "$PART" --out cdktf.out' in runs(job) and "set -o pipefail" in runs(job)
    assert job["env"]["PART"] == "${{ matrix.part }}"

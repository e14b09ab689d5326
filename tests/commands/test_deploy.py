"""``sophia_infra.deploy`` and its window logic, with fixed clocks.

Dates: in 2026, US daylight saving starts Sunday 8 March (02:00 -> 03:00) and
ends Sunday 1 November (02:00 -> 01:00) in America/Los_Angeles.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import sophia_config as config_mod
from sophia_config import DeploymentPolicy
from sophia_infra import deploy, deploy_window, tools
from tests import background
from tests.conftest import ROOT

LA = ZoneInfo("America/Los_Angeles")


def policy(**overrides) -> DeploymentPolicy:
    values = {
        "auto_approve": False,
        "window": "any",
        "pre_deployment_validation": False,
        "post_deployment_validation": False,
        "rollback_on_failure": False,
        "time_zone": "America/Los_Angeles",
    } | overrides
    return DeploymentPolicy.model_validate(values)


BUSINESS = {"window": "business-hours", "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}}
MAINTENANCE = {"window": "maintenance-window", "maintenance_window": {"day": "sun", "start": "22:00", "duration_minutes": 240}}


def at(*args, tz=LA) -> datetime:
    return datetime(*args, tzinfo=tz)


def is_open(p: DeploymentPolicy, now: datetime) -> bool:
    return deploy_window.status(p, now).open


# --- window logic -----------------------------------------------------------


def test_any_window_is_always_open():
    assert is_open(policy(), at(2026, 11, 28, 3, 0))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(2026, 11, 25, 9, 0), True),  # Wednesday, opening minute
        (at(2026, 11, 25, 16, 59), True),
        (at(2026, 11, 25, 17, 0), False),  # end is exclusive
        (at(2026, 11, 25, 8, 59), False),
        (at(2026, 11, 28, 12, 0), False),  # Saturday
        (at(2026, 11, 25, 18, 30, tz=UTC), True),  # 10:30 in Los Angeles
        (at(2026, 11, 25, 9, 30, tz=ZoneInfo("Europe/Berlin")), False),  # 00:30 in Los Angeles
    ],
)
def test_business_hours(now, expected):
    assert is_open(policy(**BUSINESS), now) is expected


def test_business_hours_next_opening_after_the_weekend():
    status = deploy_window.status(policy(**BUSINESS), at(2026, 11, 27, 18, 0))  # Friday evening
    assert status.next.start == at(2026, 11, 30, 9, 0).astimezone(UTC)
    assert status.local(status.next.start) == "Mon 2026-11-30 09:00 PST"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(2026, 11, 29, 21, 59), False),
        (at(2026, 11, 29, 22, 0), True),
        (at(2026, 11, 29, 23, 59), True),
        (at(2026, 11, 30, 0, 0), True),  # past midnight, Monday
        (at(2026, 11, 30, 1, 59), True),
        (at(2026, 11, 30, 2, 0), False),
        (at(2026, 11, 23, 1, 0), True),  # the previous week's window, seen from Monday morning
    ],
)
def test_maintenance_window_across_midnight(now, expected):
    assert is_open(policy(**MAINTENANCE), now) is expected


def test_maintenance_window_next_opening_and_current_end():
    p = policy(**MAINTENANCE)
    closed = deploy_window.status(p, at(2026, 11, 25, 10, 0))
    assert closed.local(closed.next.start) == "Sun 2026-11-29 22:00 PST"
    inside = deploy_window.status(p, at(2026, 11, 30, 1, 0))
    assert inside.local(inside.current.end) == "Mon 2026-11-30 02:00 PST"
    assert deploy_window.describe(p) == "maintenance window Sunday 22:00 to Monday 02:00 (240 min, America/Los_Angeles)"


def test_window_spanning_the_fall_back_hour_lasts_its_elapsed_duration():
    # Sunday 1 Nov 2026, 01:00 PDT (the first 01:00) + 180 min = 03:00 PST, not 04:00 wall clock.
    p = policy(window="maintenance-window", maintenance_window={"day": "sun", "start": "01:00", "duration_minutes": 180})
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)  # 01:00 PDT
    assert deploy_window.status(p, start).open
    assert deploy_window.status(p, datetime(2026, 11, 1, 10, 59, tzinfo=UTC)).open  # 02:59 PST
    assert not deploy_window.status(p, datetime(2026, 11, 1, 11, 0, tzinfo=UTC)).open  # 03:00 PST
    assert not deploy_window.status(p, datetime(2026, 11, 1, 7, 59, tzinfo=UTC)).open


def test_window_starting_in_the_spring_forward_gap_opens_after_the_gap():
    # 02:30 does not exist on Sunday 8 March 2026: the window opens at 03:30 PDT (10:30 UTC).
    p = policy(window="maintenance-window", maintenance_window={"day": "sun", "start": "02:30", "duration_minutes": 60})
    assert not deploy_window.status(p, datetime(2026, 3, 8, 10, 29, tzinfo=UTC)).open
    assert deploy_window.status(p, datetime(2026, 3, 8, 10, 30, tzinfo=UTC)).open
    assert not deploy_window.status(p, datetime(2026, 3, 8, 11, 30, tzinfo=UTC)).open


def test_business_hours_follow_daylight_saving():
    p = policy(**BUSINESS)
    assert deploy_window.status(p, datetime(2026, 10, 30, 16, 0, tzinfo=UTC)).open  # Fri 09:00 PDT
    assert not deploy_window.status(p, datetime(2026, 11, 2, 16, 0, tzinfo=UTC)).open  # Mon 08:00 PST
    assert deploy_window.status(p, datetime(2026, 11, 2, 17, 0, tzinfo=UTC)).open  # Mon 09:00 PST


def test_naive_now_is_read_in_the_environment_time_zone():
    p = policy(**MAINTENANCE)
    assert deploy_window.parse_now("2026-11-29T22:30", p) == at(2026, 11, 29, 22, 30)
    assert deploy_window.parse_now("2026-11-30T06:30+00:00", p).astimezone(LA) == at(2026, 11, 29, 22, 30)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"window": "maintenance-window"}, "window 'maintenance-window' needs maintenance_window"),
        ({"window": "business-hours"}, "window 'business-hours' needs business_hours"),
        ({**BUSINESS, "business_hours": {"days": ["mon"], "start": "17:00", "end": "09:00"}}, "end must be later than start"),
        ({"time_zone": "Pacific/Atlantis"}, "unknown IANA time zone"),
        ({**MAINTENANCE, "maintenance_window": {"day": "sunday", "start": "22:00", "duration_minutes": 60}}, "day"),
        ({**MAINTENANCE, "maintenance_window": {"day": "sun", "start": "24:00", "duration_minutes": 60}}, "start"),
    ],
)
def test_window_configuration_is_validated(overrides, message):
    with pytest.raises(ValueError, match=message):
        policy(**overrides)


def test_project_environments_define_their_windows():
    envs = {e.name: e.config.deployment for e in config_mod.load("config").environments}
    assert envs["dev"].window == "any" and envs["dev"].auto_approve
    assert envs["staging"].window == "business-hours" and not envs["staging"].auto_approve
    prod = envs["production"]
    assert prod.window == "maintenance-window" and prod.maintenance_window.duration_minutes > 0
    assert not prod.auto_approve and prod.rollback_on_failure


# --- the deploy command -----------------------------------------------------


def write_out(root: Path, graph: dict[str, list[str]], content: dict[str, dict] | None = None) -> Path:
    """A minimal synthesized output: manifest.json and one cdk.tf.json per stack."""
    stacks = {}
    for name, deps in graph.items():
        (root / "stacks" / name).mkdir(parents=True)
        doc = (content or {}).get(name, {"resource": {"aws_sns_topic": {"t": {"name": name}}}})
        (root / "stacks" / name / "cdk.tf.json").write_text(json.dumps(doc))
        stacks[name] = {"dependencies": deps, "synthesizedStackPath": f"stacks/{name}/cdk.tf.json", "workingDirectory": f"stacks/{name}"}
    (root / "manifest.json").write_text(json.dumps({"version": "0.21.0", "stacks": stacks}))
    return root


GRAPH = {
    "security-prod": [],
    "networking-prod": ["security-prod"],
    "shared-prod": ["security-prod"],
    "compute-prod": ["networking-prod", "shared-prod"],
    "security-dev": [],
    "state-bootstrap": [],
}


@pytest.fixture
def out(tmp_path):
    return write_out(tmp_path / "cdktf.out", GRAPH)


def test_refuses_outside_the_window_naming_window_and_next_opening(out):
    with pytest.raises(deploy.PolicyRefusal) as exc:
        deploy.make_plan("prod", policy(**MAINTENANCE), out=out, now=at(2026, 11, 25, 10, 0))
    text = str(exc.value)
    assert "outside its deployment window" in text
    assert "Sunday 22:00 to Monday 02:00" in text and "next opening Sun 2026-11-29 22:00 PST" in text


def test_force_needs_a_reason(out):
    with pytest.raises(deploy.PolicyRefusal, match="--force needs --reason"):
        deploy.make_plan("prod", policy(**MAINTENANCE), out=out, now=at(2026, 11, 25, 10, 0), force=True)
    plan = deploy.make_plan("prod", policy(**MAINTENANCE), out=out, now=at(2026, 11, 25, 10, 0), force=True, reason="INC-42 hotfix")
    assert plan.forced_reason == "INC-42 hotfix" and "forced: INC-42 hotfix" in deploy.render_plan(plan)


def test_waves_and_exact_commands_inside_the_window(out):
    plan = deploy.make_plan("prod", policy(**MAINTENANCE), out=out, now=at(2026, 11, 29, 23, 0), cdktf=["cdktf"])
    assert plan.waves == [["security-prod"], ["networking-prod", "shared-prod"], ["compute-prod"]]
    assert plan.deploy_commands[1] == [
        "cdktf", "deploy", "networking-prod", "shared-prod", "--app", "true", "--output", str(out), "--ignore-missing-stack-dependencies",
    ]  # fmt: skip
    assert "security-dev" not in deploy.render_plan(plan) and "state-bootstrap" not in deploy.render_plan(plan)


def test_auto_approve_only_where_allowed(out):
    dev = deploy.make_plan("prod", policy(auto_approve=True), out=out, now=at(2026, 11, 25, 10, 0))
    assert all(c[-1] == "--auto-approve" for c in dev.deploy_commands)
    interactive = deploy.make_plan("prod", policy(), out=out, now=at(2026, 11, 25, 10, 0))
    assert not any("--auto-approve" in c for c in interactive.deploy_commands)
    with pytest.raises(deploy.PolicyRefusal, match="--approved-by"):
        deploy.make_plan("prod", policy(), out=out, now=at(2026, 11, 25, 10, 0), interactive=False)
    approved = deploy.make_plan("prod", policy(), out=out, now=at(2026, 11, 25, 10, 0), interactive=False, approved_by="GitHub environment prod")
    assert all(c[-1] == "--auto-approve" for c in approved.deploy_commands)
    assert approved.approval == "approved by GitHub environment prod"


def test_validations_follow_the_policy(out):
    plan = deploy.make_plan(
        "prod", policy(pre_deployment_validation=True, post_deployment_validation=True), out=out, now=at(2026, 11, 25, 10, 0)
    )
    assert plan.pre_commands[0][1:4] == ["-m", "sophia_infra.validate", "--outdir"]
    assert plan.post_commands[0] == ["terraform", f"-chdir={out}/stacks/security-prod", "plan", "-detailed-exitcode", "-input=false", "-lock=false", "-no-color"]
    assert len(plan.post_commands) == 4


def test_previous_output_limits_the_deployment_to_changed_stacks_and_dependents(tmp_path, out):
    changed = {"networking-prod": {"resource": {"aws_sns_topic": {"t": {"name": "renamed"}}}}}
    previous = write_out(tmp_path / "previous", GRAPH)
    head = write_out(tmp_path / "head", GRAPH, changed)
    plan = deploy.make_plan("prod", policy(), out=head, now=at(2026, 11, 25, 10, 0), previous_out=previous)
    assert plan.waves == [["networking-prod"], ["compute-prod"]]
    assert plan.unchanged == ["security-prod", "shared-prod"]


def test_rollback_needs_the_previous_output_except_in_a_dry_run(out):
    p = policy(rollback_on_failure=True)
    with pytest.raises(deploy.PolicyRefusal, match="--previous-out"):
        deploy.make_plan("prod", p, out=out, now=at(2026, 11, 25, 10, 0))
    assert deploy.make_plan("prod", p, out=out, now=at(2026, 11, 25, 10, 0), dry_run=True).waves


FAKE_CDKTF = """
import json, sys, pathlib
log = pathlib.Path(sys.argv[1])
args = sys.argv[2:]
with log.open("a") as f:
    f.write(json.dumps(args) + "\\n")
sys.exit(1 if "compute-prod" in args and "previous" not in " ".join(args) else 0)
"""


def test_failed_wave_rolls_back_attempted_stacks_latest_first(tmp_path, capsys):
    previous = write_out(tmp_path / "previous", GRAPH)
    head = write_out(tmp_path / "head", GRAPH, {n: {"resource": {"aws_sns_topic": {"t": {"name": n + "-v2"}}}} for n in GRAPH})
    script, log = tmp_path / "fake_cdktf.py", tmp_path / "calls.jsonl"
    script.write_text(FAKE_CDKTF)
    cdktf = [sys.executable, str(script), str(log)]
    p = policy(rollback_on_failure=True, auto_approve=True)
    plan = deploy.make_plan("prod", p, out=head, now=at(2026, 11, 25, 10, 0), previous_out=previous, cdktf=cdktf)
    assert deploy.execute(plan, cdktf) == 1
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    deployed = [c[1 : c.index("--app")] for c in calls]
    assert deployed == [
        ["security-prod"],
        ["networking-prod", "shared-prod"],
        ["compute-prod"],
        ["compute-prod"],  # rollback, latest wave first, from the previous output
        ["networking-prod", "shared-prod"],
        ["security-prod"],
    ]
    assert all(c[c.index("--output") + 1] == str(previous) for c in calls[3:])
    summary = capsys.readouterr().out
    assert "compute-prod: FAILED" in summary and "result: FAILED" in summary


@pytest.fixture
def fresh_output(monkeypatch):
    """The output counts as matching the working tree (tests of the plan, not of freshness)."""
    monkeypatch.setattr(deploy, "output_freshness", lambda out, env, config_dir: deploy.Freshness(True, "matches (stub)"))


def test_cli_dry_run_production_refuses_outside_and_prints_waves_inside(synthesized, capsys, fresh_output):
    assert deploy.main(["production", "--dry-run", "--now", "2026-11-25T10:00", "--out", str(synthesized)]) == 2
    assert "next opening Sun 2026-11-29 22:00 PST" in capsys.readouterr().err
    assert deploy.main(["production", "--dry-run", "--now", "2026-11-29T22:30", "--out", str(synthesized)]) == 0
    text = capsys.readouterr().out
    cli = shlex.join(tools.cdktf_command())  # the pinned CLI, by its path
    assert f"wave 1 (security-production):\n  $ {cli} deploy security-production --app true" in text
    assert "wave 2 (ai-ml-production, ai-workloads-production, compute-production, data-production," in text


@pytest.fixture
def synthesized(tmp_path):
    """The project's environment stacks, as a manifest (contents do not matter to the plan)."""
    functions = ["security", "networking", "shared", "compute", "data", "ai-ml", "ai-workloads", "monitoring"]
    graph = {f"{f}-production": ([] if f == "security" else ["security-production"]) for f in functions}
    return write_out(tmp_path / "cdktf.out", graph)


def test_first_deployment_needs_no_previous_output(out):
    plan = deploy.make_plan("prod", policy(rollback_on_failure=True), out=out, now=at(2026, 11, 25, 10, 0), first_deployment=True)
    assert len(plan.waves) == 3


FAKE_TERRAFORM = """#!/bin/sh
# plan exits 2 (changes) for the networking stack only
case "$*" in *networking-prod*plan*) exit 2;; esac
exit 0
"""


def test_check_drift_plans_every_stack_and_fails_on_drift(tmp_path, out, monkeypatch, capsys):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "terraform").write_text(FAKE_TERRAFORM)
    (bin_dir / "terraform").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    assert deploy.check_drift(out, "prod") == 3
    text = capsys.readouterr().out
    assert "networking-prod: DRIFT" in text and "security-prod: in sync" in text and "security-dev" not in text


def test_check_drift_dry_run_prints_init_and_plan(out, capsys):
    assert deploy.check_drift(out, "prod", dry_run=True) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"$ terraform -chdir={out}/stacks/compute-prod init -input=false -no-color"
    assert lines[1].endswith("plan -detailed-exitcode -input=false -lock=false -no-color")
    assert len(lines) == 8


# --- the clock and the output (issue 12) --------------------------------------


def test_now_only_previews_it_never_deploys(synthesized, tmp_path, capsys, fresh_output):
    """``--now`` inside the window of production, without --dry-run: refused, nothing run."""
    script, log = tmp_path / "fake_cdktf.py", tmp_path / "calls.jsonl"
    script.write_text(FAKE_CDKTF)
    args = ["production", "--now", "2026-11-29T22:30", "--out", str(synthesized), "--approved-by", "someone", "--first-deployment"]
    assert deploy.main([*args, "--cdktf", f"{sys.executable} {script} {log}"]) == 2
    assert "--now goes with --dry-run only" in capsys.readouterr().err
    assert not log.exists()


def test_every_summary_states_the_clock_and_the_output(synthesized, capsys, fresh_output):
    assert deploy.main(["production", "--dry-run", "--now", "2026-11-29T22:30", "--out", str(synthesized)]) == 0
    text = capsys.readouterr().out
    assert "  clock:    window judged at Sun 2026-11-29 22:30 PST (--now, dry run only)" in text
    assert "  output:   matches (stub)" in text


def test_the_summary_of_a_real_deployment_states_them_too(out, tmp_path, capsys):
    script, log = tmp_path / "fake_cdktf.py", tmp_path / "calls.jsonl"
    script.write_text(FAKE_CDKTF)
    cdktf = [sys.executable, str(script), str(log)]
    plan = deploy.make_plan("prod", policy(auto_approve=True), out=out, now=at(2026, 11, 25, 10, 0), cdktf=cdktf)
    plan.output = "matches the working tree (config and code): 4 stacks of prod compared"
    assert deploy.execute(plan, cdktf) == 1  # the fake cdktf fails compute-prod
    summary = capsys.readouterr().out.split("summary:")[1]
    assert "clock: window judged at Wed 2026-11-25 10:00 PST (this machine's clock)" in summary
    assert "output: matches the working tree" in summary


@background.early(needs=["synth_outdir"])
def stale_dry_run(folder: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """``deploy dev --dry-run`` (a real re-synthesis of the working tree, one environment)
    against a copy of the session's output with one stack edited by hand after synthesis."""
    config = folder / "config"
    config.mkdir()
    for name in ("project.yaml", "dev.yaml"):
        (config / name).write_text((ROOT / "config" / name).read_text())
    out = folder / "cdktf.out"
    shutil.copytree(background.result("synth_outdir"), out)
    stack = out / "stacks" / "data-dev" / "cdk.tf.json"
    doc = json.loads(stack.read_text())
    instance = next(iter(doc["resource"]["aws_db_instance"].values()))
    instance["deletion_protection"] = not instance["deletion_protection"]
    stack.write_text(json.dumps(doc))
    command = [sys.executable, "-m", "sophia_infra.deploy", "dev", "--dry-run", "--out", str(out), "--config-dir", str(config)]
    return out, background.run(command, check=False, cwd=ROOT)


def test_stale_output_is_refused_naming_the_stacks(stale_dry_run):
    """Refused, naming the stack that differs."""
    out, result = stale_dry_run
    assert result.returncode == 2, result.stderr
    assert f"output:   STALE: data-dev in {out}/ differ from what the working tree" in result.stdout
    assert "refusing to deploy output that does not match the working tree: run make synth" in result.stderr


def test_compare_outputs_decides_on_content(tmp_path):
    graph = {"security-prod": [], "networking-prod": ["security-prod"], "security-dev": []}
    fresh = write_out(tmp_path / "fresh", graph)
    same = write_out(tmp_path / "same", graph)
    assert deploy.compare_outputs(same, fresh, "prod").matches
    other_env = write_out(tmp_path / "other", graph, {"security-dev": {"resource": {}}})
    assert deploy.compare_outputs(other_env, fresh, "prod").matches  # dev's change does not concern prod
    missing = write_out(tmp_path / "missing", {"security-prod": [], "security-dev": []})
    result = deploy.compare_outputs(missing, fresh, "prod")
    assert not result.matches and "STALE: networking-prod" in result.detail


# --- missing tools --------------------------------------------------------------


def test_missing_cdktf_is_one_line_after_the_plan(tmp_path, capsys, fresh_output):
    dev_out = write_out(tmp_path / "dev-out", {"security-dev": []})
    args = ["dev", "--out", str(dev_out), "--config-dir", str(ROOT / "config"), "--cdktf", "cdktf-not-installed-here"]
    assert deploy.main(args) == 2
    captured = capsys.readouterr()
    assert "Deployment of dev" in captured.out  # the plan (summary) is still printed
    assert captured.err.strip() == "deploy: nothing deployed: cdktf-not-installed-here not found on PATH: install it or put it on PATH"


def test_missing_terraform_and_node_name_how_to_get_them(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "cdktf").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "cdktf").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert str(tools.missing(["cdktf", "deploy"])) == (
        "node not found on PATH: install Node.js 20 or later (https://nodejs.org/); jsii runs the cdktf libraries on it"
    )
    assert "install Terraform 1.11" in str(tools.missing(["terraform"]))
    monkeypatch.setenv("CDKTF_CLI", "npx cdktf")
    assert tools.cdktf_command() == ["npx", "cdktf"]


def test_check_drift_without_terraform_is_one_line(out, monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert deploy.check_drift(out, "prod") == 1
    captured = capsys.readouterr()
    assert "deploy: terraform not found on PATH: install Terraform 1.11" in captured.err
    assert "compute-prod: ERROR (init failed)" in captured.out


# --- the account baseline ---------------------------------------------------------------------

BASELINE_GRAPH = {
    "baseline-prod": [],
    "security-prod": [],
    "compute-prod": ["security-prod", "baseline-prod"],
}


def test_the_pipeline_never_deploys_the_account_baseline(tmp_path):
    out = write_out(tmp_path / "cdktf.out", BASELINE_GRAPH)
    plan = deploy.make_plan("prod", policy(), out=out, now=at(2026, 11, 25, 10, 0))
    assert plan.waves == [["security-prod"], ["compute-prod"]]
    assert "baseline-prod" not in plan.unchanged and "baseline-prod" not in deploy.render_plan(plan)


def test_pipeline_exclusions_match_the_stacks_package():
    from stacks import PIPELINE_EXCLUDED

    assert deploy.PIPELINE_EXCLUDED == PIPELINE_EXCLUDED


def test_check_drift_includes_the_baseline(tmp_path, capsys):
    out = write_out(tmp_path / "cdktf.out", BASELINE_GRAPH)
    assert deploy.check_drift(out, "prod", dry_run=True) == 0
    planned = {line.split("/stacks/")[1].split()[0] for line in capsys.readouterr().out.splitlines() if " plan " in line}
    assert planned == set(BASELINE_GRAPH)


# --- the parts a runner can reach ----------------------------------------------------------

K8S = {"provider": {"kubernetes": [{"host": "x"}], "aws": [{}]}, "resource": {"kubernetes_namespace_v1": {"n": {}}}}
PARTS_GRAPH = {
    "baseline-prod": [],
    "security-prod": [],
    "compute-prod": ["security-prod", "baseline-prod"],
    "ci-prod": ["compute-prod"],
    "ai-workloads-prod": ["compute-prod"],
    "dashboards-prod": ["ai-workloads-prod"],
    "monitoring-prod": ["compute-prod"],
}


@pytest.fixture
def parts_out(tmp_path):
    return write_out(tmp_path / "cdktf.out", PARTS_GRAPH, {"ai-workloads-prod": K8S})


def test_kubernetes_part_is_the_kubernetes_stacks_and_what_depends_on_them(parts_out):
    plan = deploy.make_plan("prod", policy(), out=parts_out, now=at(2026, 11, 25, 10, 0), part="kubernetes")
    assert plan.waves == [["ai-workloads-prod"], ["dashboards-prod"]]
    assert "(kubernetes part)" in deploy.render_plan(plan)
    aws = deploy.make_plan("prod", policy(), out=parts_out, now=at(2026, 11, 25, 10, 0), part="aws")
    assert aws.waves == [["security-prod"], ["compute-prod"], ["ci-prod", "monitoring-prod"]]


def test_a_change_upstream_redeploys_the_kubernetes_stacks_in_their_part(tmp_path):
    previous = write_out(tmp_path / "previous", PARTS_GRAPH, {"ai-workloads-prod": K8S})
    changed = {"ai-workloads-prod": K8S, "compute-prod": {"resource": {"aws_sns_topic": {"t": {"name": "renamed"}}}}}
    head = write_out(tmp_path / "head", PARTS_GRAPH, changed)
    now = at(2026, 11, 25, 10, 0)
    aws = deploy.make_plan("prod", policy(), out=head, now=now, previous_out=previous, part="aws")
    kubernetes = deploy.make_plan("prod", policy(), out=head, now=now, previous_out=previous, part="kubernetes")
    assert aws.waves == [["compute-prod"], ["ci-prod", "monitoring-prod"]]
    assert kubernetes.waves == [["ai-workloads-prod"], ["dashboards-prod"]]


def test_check_drift_follows_the_part(parts_out, capsys):
    assert deploy.check_drift(parts_out, "prod", dry_run=True, part="kubernetes") == 0
    planned = {line.split("/stacks/")[1].split()[0] for line in capsys.readouterr().out.splitlines() if " plan " in line}
    assert planned == {"ai-workloads-prod", "dashboards-prod"}
    assert deploy.check_drift(parts_out, "prod", dry_run=True, part="aws") == 0
    planned = {line.split("/stacks/")[1].split()[0] for line in capsys.readouterr().out.splitlines() if " plan " in line}
    assert planned == set(PARTS_GRAPH) - {"ai-workloads-prod", "dashboards-prod"}


def test_the_project_puts_only_ai_workloads_on_the_in_vpc_runner(synth_outdir):
    from sophia_infra.review import loader

    synth = loader.load(synth_outdir)
    for env in ("dev", "staging", "production"):
        graph = deploy.environment_graph(synth, env)
        assert deploy.part_of(synth, graph, "kubernetes") == {f"ai-workloads-{env}"}
        assert f"baseline-{env}" in deploy.part_of(synth, graph, "aws")
        assert f"baseline-{env}" not in deploy.environment_graph(synth, env, pipeline=True)


def test_cli_refuses_an_unknown_part(capsys):
    with pytest.raises(SystemExit):
        deploy.main(["production", "--dry-run", "--part", "gpu"])
    assert "invalid choice: 'gpu'" in capsys.readouterr().err


def test_a_mistyped_environment_is_one_line_and_no_banner():
    # Nothing but the one line: no Node 20 end-of-life banner from jsii either (the command
    # starts no jsii runtime, tests/app/test_layers.py; were it to start one, through jsii's
    # own relay, the commands package silences the banner).
    unset = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "JSII_RUNTIME", "JSII_NODE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    command = [sys.executable, "-m", "sophia_infra.deploy", "prod", "--dry-run"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == ["deploy: unknown environment 'prod' (known: dev, production, staging)"]


def test_without_cdktf_cli_set_the_pinned_cli_is_used(monkeypatch):
    # The deploy jobs and a user's deploy run the CLI that package-lock.json pins (make
    # installs it), never whatever cdktf happens to be on PATH.
    monkeypatch.delenv("CDKTF_CLI", raising=False)
    pinned = ROOT / "node_modules" / ".bin" / "cdktf"
    assert pinned.is_file(), "make's install step runs npm ci"
    assert tools.cdktf_command() == [str(pinned)]
    assert tools.missing(tools.cdktf_command()) is None
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/cdktf-cli"]["version"] == "0.21.0"

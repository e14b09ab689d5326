"""Deploy one environment under its deployment policy (the seed's ``deploymentConfig``).

    python -m sophia_infra.deploy <env> [--dry-run] [--force --reason TEXT] [--now ISO]
        [--out cdktf.out] [--previous-out DIR] [--approved-by TEXT] [--cdktf CMD]

What it does, in order, from ``config/<env>.yaml`` ``deployment:``:

1. **Window**: refuses outside ``window`` (``any`` / ``business-hours`` /
   ``maintenance-window``), naming the window and its next opening, unless
   ``--force --reason TEXT`` (the reason is printed in the summary and the log).
2. **Approval**: ``cdktf deploy --auto-approve`` only where ``auto_approve`` is
   true, or where an approval was given outside the terminal and is named with
   ``--approved-by`` (the pipeline's GitHub environment reviewers). Otherwise
   ``cdktf`` asks for each stack, which needs a terminal.
3. **Stacks**: the environment's stacks (``<function>-<env>`` in
   ``manifest.json``) but its account baseline (``baseline-<env>``: an account
   administrator deploys it, it defines the roles the pipeline runs as); with
   ``--previous-out`` (the synthesized output of the last deployed commit) only
   those that changed since, and what depends on them. ``--part`` narrows them to
   the stacks a runner can reach: ``aws`` (AWS APIs only: any runner) or
   ``kubernetes`` (the stacks that talk to the private EKS API, and every stack
   downstream of them: the in-VPC runner).
4. **Pre-deployment validation** (if enabled): ``terraform validate`` of those
   stacks (``python -m sophia_infra.validate``).
5. **Waves**: one ``cdktf deploy`` per wave of the dependency graph; stacks in a
   wave do not depend on each other and cdktf deploys them in parallel. The
   already synthesized, reviewed output is deployed as it is: ``--app true``
   makes cdktf's synth step a no-op, it then reads ``--output``.
6. **Post-deployment validation** (if enabled): ``terraform plan
   -detailed-exitcode`` of every deployed stack must report no remaining change.
7. **Rollback** (if ``rollback_on_failure``): when a wave fails, the stacks
   attempted so far are deployed again from ``--previous-out``, latest wave
   first. A new stack has no previous version and is left as it is.

``--dry-run`` checks the window and prints the exact commands without running them.
``--check-drift`` plans every stack of the environment instead (``terraform plan
-detailed-exitcode``), the baseline included, and exits 3 when the cloud differs
from the code; ``--part`` narrows it the same way.

Exit codes: 0 deployed (or dry run, or no drift), 1 failed, 2 refused by the
policy or bad usage, 3 drift found.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sophia_config as config_mod
from sophia_config import DeploymentPolicy
from sophia_infra import deploy_window
from sophia_infra.review import comparison, loader
from sophia_infra.review.waves import waves as wave_levels

DEFAULT_CDKTF = os.environ.get("CDKTF_CLI", "cdktf")

PIPELINE_EXCLUDED = ("baseline",)
"""Functions an account administrator deploys, never this command: the account baseline
defines the roles the pipeline runs as (docs/deployment.md, "Bootstrapping an account").
The same list as ``stacks.PIPELINE_EXCLUDED``, which this module does not import (it reads
the synthesized output, and importing the stacks would start the jsii runtime)."""

PARTS = ("aws", "kubernetes")
"""What ``--part`` selects: stacks that need only AWS APIs, or those that talk to a
Kubernetes API (and every stack downstream of them)."""


class PolicyRefusal(Exception):
    """The deployment policy does not allow this deployment; ``str()`` says why and what would."""


@dataclass
class Plan:
    environment: str
    policy: DeploymentPolicy
    window: deploy_window.WindowStatus
    now: datetime
    waves: list[list[str]]
    deploy_commands: list[list[str]]
    pre_commands: list[list[str]] = field(default_factory=list)
    post_commands: list[list[str]] = field(default_factory=list)
    approval: str = ""
    forced_reason: str | None = None
    unchanged: list[str] = field(default_factory=list)
    previous_out: Path | None = None
    part: str | None = None


def environment_graph(synth: loader.Synth, env: str, *, pipeline: bool = False) -> dict[str, tuple[str, ...]]:
    """The environment's stacks (``<function>-<env>``) and their dependencies among themselves;
    with ``pipeline``, only those the pipeline deploys (not :data:`PIPELINE_EXCLUDED`)."""
    suffix = f"-{env}"
    excluded = {f"{function}{suffix}" for function in PIPELINE_EXCLUDED} if pipeline else set()
    names = {name for name in synth.stacks if name.endswith(suffix) and name not in excluded}
    return {name: tuple(d for d in synth.stacks[name].dependencies if d in names) for name in sorted(names)}


def needs_kubernetes_api(stack: loader.Stack) -> bool:
    """The stack configures a Kubernetes provider: planning or deploying it talks to the cluster's API."""
    return "kubernetes" in (stack.doc.get("provider") or {})


def part_of(synth: loader.Synth, graph: dict[str, tuple[str, ...]], part: str) -> set[str]:
    """The stacks of ``graph`` in ``part``: ``kubernetes`` is every stack that talks to a
    Kubernetes API and every stack downstream of one (it deploys after them); ``aws`` the rest."""
    if part not in PARTS:
        raise PolicyRefusal(f"--part must be one of {', '.join(PARTS)}, got {part!r}")
    kubernetes = {name for name in graph if needs_kubernetes_api(synth.stacks[name])}
    grown = True
    while grown:
        downstream = {name for name, deps in graph.items() if name not in kubernetes and kubernetes.intersection(deps)}
        kubernetes |= downstream
        grown = bool(downstream)
    return kubernetes if part == "kubernetes" else set(graph) - kubernetes


def select_stacks(
    out: Path, env: str, previous_out: Path | None, part: str | None = None
) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """(graph of the environment, stacks to deploy): all of them, or those changed since
    ``previous_out`` and what depends on them; with ``part``, those of that part only."""
    head = loader.load(out)
    graph = environment_graph(head, env, pipeline=True)
    if not graph:
        raise PolicyRefusal(f"{out}/manifest.json has no stacks for environment {env!r} (expected names ending in '-{env}'; run make synth)")
    if previous_out is None:
        selected = sorted(graph)
    else:
        # The review's own comparison, so that the stacks deployed are those the review listed as changed.
        result = comparison.compare(loader.load(previous_out), head)
        selected = sorted(name for name in result.changed_stacks if name in graph)
    if part is None:
        return graph, selected
    # Dependents across the parts count: a change to compute (aws) redeploys ai-workloads (kubernetes).
    affected = {name for wave in wave_levels(graph, selected) for name in wave}
    keep = part_of(head, graph, part)
    return {n: tuple(d for d in deps if d in keep) for n, deps in graph.items() if n in keep}, sorted(affected & keep)


def cdktf_deploy(cdktf: list[str], stacks: list[str], out: Path, auto_approve: bool) -> list[str]:
    command = [*cdktf, "deploy", *stacks, "--app", "true", "--output", str(out)]
    # Earlier waves were deployed by earlier commands; cdktf would otherwise
    # refuse a stack whose dependencies are not in the same command.
    command.append("--ignore-missing-stack-dependencies")
    if auto_approve:
        command.append("--auto-approve")
    return command


def post_validation(out: Path, stack: str) -> list[str]:
    # cdktf deploy has initialised the stack's working directory with its backend.
    return ["terraform", f"-chdir={out / 'stacks' / stack}", "plan", "-detailed-exitcode", "-input=false", "-lock=false", "-no-color"]


def drift_commands(out: Path, stack: str) -> list[list[str]]:
    """``terraform init`` (with the stack's S3 backend) and a read-only plan whose exit code tells drift.

    ``cdktf diff`` prints a plan but always exits 0; ``-detailed-exitcode`` exits
    0 (no changes), 1 (error) or 2 (changes: the cloud drifted from the code, or
    the code was not deployed).
    """
    return [
        ["terraform", f"-chdir={out / 'stacks' / stack}", "init", "-input=false", "-no-color"],
        post_validation(out, stack),
    ]


def check_drift(out: Path, env: str, dry_run: bool = False, part: str | None = None) -> int:
    """Plan every stack of ``env`` (of ``part``); 0 in sync, 3 drift found, 1 a plan failed."""
    synth = loader.load(out)
    graph = environment_graph(synth, env)
    if not graph:
        raise PolicyRefusal(f"{out}/manifest.json has no stacks for environment {env!r}")
    if part is not None:
        keep = part_of(synth, graph, part)
        graph = {name: deps for name, deps in graph.items() if name in keep}
    results = []
    for stack in sorted(graph):
        init, plan = drift_commands(out, stack)
        if dry_run:
            print(f"$ {shlex.join(init)}\n$ {shlex.join(plan)}")
            continue
        if _run(init) != 0:
            results.append((stack, "ERROR (init failed)"))
            continue
        code = _run(plan)
        results.append((stack, {0: "in sync", 2: "DRIFT"}.get(code, "ERROR (plan failed)")))
    if dry_run:
        return 0
    print(f"\ndrift summary ({env}):")
    for stack, state in results:
        print(f"  {stack}: {state}")
    if any(state.startswith("ERROR") for _, state in results):
        return 1
    return 3 if any(state == "DRIFT" for _, state in results) else 0


def _python() -> str:
    """This interpreter, relative to the working directory when inside it (``.venv/bin/python``)."""
    path = Path(sys.executable)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def make_plan(
    env_name: str,
    policy: DeploymentPolicy,
    *,
    out: Path,
    now: datetime,
    force: bool = False,
    reason: str | None = None,
    approved_by: str | None = None,
    previous_out: Path | None = None,
    cdktf: list[str] | None = None,
    interactive: bool = True,
    dry_run: bool = False,
    first_deployment: bool = False,
    part: str | None = None,
) -> Plan:
    """Check the policy and work out every command; raises :class:`PolicyRefusal`."""
    if force and not (reason and reason.strip()):
        raise PolicyRefusal("--force needs --reason TEXT (why this deployment cannot wait for the window)")
    window = deploy_window.status(policy, now)
    if not window.open and not force:
        upcoming = f"next opening {window.local(window.next.start)}" if window.next else "no opening found in the next 8 days"
        raise PolicyRefusal(
            f"refusing to deploy {env_name} outside its deployment window: {window.description}; "
            f"now {window.local(now)}; {upcoming}. "
            "Deploy then, or pass --force --reason TEXT."
        )
    if policy.auto_approve:
        auto, approval = True, "auto-approved (deployment.auto_approve: true)"
    elif approved_by:
        auto, approval = True, f"approved by {approved_by}"
    elif interactive:
        auto, approval = False, "interactive: cdktf asks before each stack (deployment.auto_approve: false)"
    else:
        raise PolicyRefusal(
            f"{env_name} does not allow auto-approval (deployment.auto_approve: false) and this session has no "
            "terminal to approve in: name the approval given elsewhere with --approved-by TEXT "
            "(e.g. 'GitHub environment production, run 1234')"
        )
    if policy.rollback_on_failure and previous_out is None and not (dry_run or first_deployment):
        raise PolicyRefusal(
            f"{env_name} rolls back on failure (deployment.rollback_on_failure: true): pass --previous-out DIR, "
            "the synthesized output of the last deployed commit, to roll back to "
            "(or --first-deployment when nothing has been deployed yet)"
        )
    graph, selected = select_stacks(out, env_name, previous_out, part)
    waves = wave_levels(graph, selected)
    deployed = [name for wave in waves for name in wave]
    cli = cdktf or shlex.split(DEFAULT_CDKTF)
    plan = Plan(
        environment=env_name,
        policy=policy,
        window=window,
        now=now,
        waves=waves,
        deploy_commands=[cdktf_deploy(cli, wave, out, auto) for wave in waves],
        approval=approval,
        forced_reason=reason.strip() if (force and not window.open and reason) else None,
        unchanged=sorted(set(graph) - set(deployed)),
        previous_out=previous_out,
        part=part,
    )
    if policy.pre_deployment_validation and deployed:
        plan.pre_commands = [[_python(), "-m", "sophia_infra.validate", "--outdir", str(out), *deployed]]
    if policy.post_deployment_validation:
        plan.post_commands = [post_validation(out, name) for name in deployed]
    return plan


def rollback_commands(plan: Plan, attempted_waves: int, cdktf: list[str]) -> tuple[list[list[str]], list[str]]:
    """Commands re-deploying the attempted stacks from ``previous_out`` (latest wave first), and the new stacks left alone."""
    if plan.previous_out is None:
        return [], []
    previous = loader.load(plan.previous_out)
    commands, new = [], []
    for wave in reversed(plan.waves[:attempted_waves]):
        known = [name for name in wave if name in previous.stacks]
        new += [name for name in wave if name not in previous.stacks]
        if known:
            commands.append(cdktf_deploy(cdktf, known, plan.previous_out, auto_approve=True))
    return commands, sorted(new)


def render_plan(plan: Plan) -> str:
    w = plan.window
    if plan.policy.window == "any":
        window = "any time"
    elif w.open:
        window = f"{w.description}: open now ({w.local(plan.now)}), closes {w.local(w.current.end)}"  # type: ignore[union-attr]
    else:
        window = f"{w.description}: CLOSED now ({w.local(plan.now)}); forced: {plan.forced_reason}"
    part = f" ({plan.part} part)" if plan.part else ""
    lines = [
        f"Deployment of {plan.environment}{part}: {sum(len(x) for x in plan.waves)} stacks in {len(plan.waves)} waves",
        f"  window:   {window}",
        f"  approval: {plan.approval}",
    ]
    if plan.unchanged:
        lines.append(f"  unchanged since {plan.previous_out}: {', '.join(plan.unchanged)}")
    if not plan.waves:
        lines.append("  nothing to deploy")
    if plan.pre_commands:
        lines.append("pre-deployment validation:")
        lines += [f"  $ {shlex.join(c)}" for c in plan.pre_commands]
    for i, (wave, command) in enumerate(zip(plan.waves, plan.deploy_commands, strict=False), 1):
        lines.append(f"wave {i} ({', '.join(wave)}):")
        lines.append(f"  $ {shlex.join(command)}")
    if plan.post_commands:
        lines.append("post-deployment validation (exit 0 = nothing left to change):")
        lines += [f"  $ {shlex.join(c)}" for c in plan.post_commands]
    if plan.policy.rollback_on_failure:
        source = plan.previous_out or "--previous-out DIR (required for a real run)"
        lines.append(f"on failure: roll back the attempted stacks from {source}, latest wave first")
    return "\n".join(lines)


def _run(command: list[str]) -> int:
    print(f"$ {shlex.join(command)}", flush=True)
    return subprocess.run(command, check=False).returncode


def execute(plan: Plan, cdktf: list[str]) -> int:
    """Run the plan; returns the exit code. Prints a summary at the end."""
    results: list[tuple[str, str]] = []
    failed = False
    for command in plan.pre_commands:
        if _run(command) != 0:
            print("summary: pre-deployment validation failed; nothing was deployed", file=sys.stderr)
            return 1
    attempted = 0
    for wave, command in zip(plan.waves, plan.deploy_commands, strict=False):
        attempted += 1
        code = _run(command)
        results += [(name, "deployed" if code == 0 else "FAILED") for name in wave]
        if code != 0:
            failed = True
            break
    if not failed:
        for command in plan.post_commands:
            code = _run(command)
            if code != 0:
                stack = Path(command[1].removeprefix("-chdir=")).name
                results.append((stack, "post-validation: changes remain" if code == 2 else "post-validation: plan failed"))
                failed = True
    if failed and plan.policy.rollback_on_failure:
        commands, new = rollback_commands(plan, attempted, cdktf)
        for command in commands:
            code = _run(command)
            results.append((" ".join(command[2 : command.index("--app")]), "rolled back" if code == 0 else "ROLLBACK FAILED"))
        results += [(name, "new stack, not rolled back") for name in new]
    print("\nsummary:")
    print(f"  environment: {plan.environment}; approval: {plan.approval}")
    if plan.forced_reason:
        print(f"  outside the window, forced: {plan.forced_reason}")
    for name, state in results:
        print(f"  {name}: {state}")
    print(f"  result: {'FAILED' if failed else 'deployed'}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sophia_infra.deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument("environment")
    parser.add_argument("--dry-run", action="store_true", help="check the policy and print the commands only")
    parser.add_argument("--force", action="store_true", help="deploy outside the window (needs --reason)")
    parser.add_argument("--reason", help="why --force is needed; printed in the summary")
    parser.add_argument("--now", help="the time to check the window at (ISO 8601; no offset = the environment's time zone)")
    parser.add_argument("--out", default="cdktf.out", help="synthesized output to deploy (default: cdktf.out)")
    parser.add_argument("--previous-out", help="synthesized output of the last deployed commit: deploy only what changed, roll back to it")
    parser.add_argument("--approved-by", help="an approval given outside this terminal (allows --auto-approve where the policy does not)")
    parser.add_argument("--cdktf", default=DEFAULT_CDKTF, help="the cdktf CLI command (default: $CDKTF_CLI or 'cdktf')")
    parser.add_argument("--first-deployment", action="store_true", help="nothing is deployed yet: no --previous-out to roll back to")
    parser.add_argument("--check-drift", action="store_true", help="plan every stack of the environment; exit 3 if any differs from the cloud")
    parser.add_argument(
        "--part",
        choices=PARTS,
        help="only the stacks that need AWS APIs alone (aws), or those that talk to the private Kubernetes API and "
        "what depends on them (kubernetes: run it on the in-VPC runner); default: every stack",
    )
    parser.add_argument("--config-dir", default=os.environ.get("SOPHIA_CONFIG_DIR", "config"))
    args = parser.parse_args(argv)
    cdktf = shlex.split(args.cdktf)
    try:
        env = config_mod.load(args.config_dir).environment(args.environment)
        if args.check_drift:
            return check_drift(Path(args.out), env.name, dry_run=args.dry_run, part=args.part)
        policy = env.config.deployment
        plan = make_plan(
            env.name,
            policy,
            out=Path(args.out),
            now=deploy_window.parse_now(args.now, policy),
            force=args.force,
            reason=args.reason,
            approved_by=args.approved_by,
            previous_out=Path(args.previous_out) if args.previous_out else None,
            cdktf=cdktf,
            interactive=args.dry_run or sys.stdin.isatty(),
            dry_run=args.dry_run,
            first_deployment=args.first_deployment,
            part=args.part,
        )
    except (PolicyRefusal, config_mod.ConfigError, loader.ReviewError, ValueError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 2
    print(render_plan(plan), flush=True)
    if args.dry_run:
        return 0
    return execute(plan, cdktf)


if __name__ == "__main__":
    sys.exit(main())

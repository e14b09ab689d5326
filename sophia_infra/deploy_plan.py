"""What a deployment of one environment will do, worked out before anything runs: the
policy's checks (window, approval, rollback source), the stacks and their waves, and the
exact commands (``sophia_infra.deploy`` is the command that prints and runs the plan).
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sophia_config import DeploymentPolicy
from sophia_infra import deploy_window, tools
from sophia_infra.review import comparison, loader
from sophia_infra.review.waves import waves as wave_levels

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
    clock: str = "this machine's clock"
    """Where ``now`` came from: this machine's clock, or ``--now`` (dry runs only)."""
    output: str = "not checked"
    """Whether ``--out`` matches the working tree (:func:`sophia_infra.deploy_output.output_freshness`)."""


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
    cli = cdktf or tools.cdktf_command()
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
        f"  clock:    window judged at {w.local(plan.now)} ({plan.clock})",
        f"  output:   {plan.output}",
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

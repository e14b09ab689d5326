"""``make local-up`` / ``make local-down``: the dev environment on moto, with no AWS account.

    python -m sophia_infra.emulator up   [--workdir build/local] [--stacks S ...]
    python -m sophia_infra.emulator down [--workdir build/local]
    python -m sophia_infra.emulator status [--workdir build/local]

``up`` synthesizes with the pinned CLI (``npx cdktf synth``) into the run's own
directory, starts moto on 127.0.0.1 (a free port; pid, port and run id in
``<workdir>/emulator.json``), bootstraps state, deploys each dev stack the
emulator carries with ``npx cdktf deploy`` in dependency order (one progress line
per stack with its time), then prints the outputs and what was left out and why.
The emulator keeps running until ``down``, which destroys the stacks (latest
first) and stops it.

Ctrl-C or SIGTERM at any point stops every process the run started (moto, the
CLI, Terraform and its providers) and exits 130 or 143; a second one while it stops
is ignored (:func:`sophia_infra.interrupts.handled`). A failed ``up`` stops
everything as well (exit 1): the logs of every command stay in ``<workdir>/logs/``.
A tool the run needs and this machine lacks (the cdktf CLI or node, terraform,
moto's server) is one line before anything starts, exit 2.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

from sophia_infra import interrupts, tools
from sophia_infra.emulator import overrides, server
from sophia_infra.emulator.session import BOOTSTRAP, ROOT, CommandFailed, Session, deploy_order, managed_resources

ENVIRONMENT = "dev"
# What each command's lines start with.
PREFIX = {"up": "local-up", "down": "local-down", "deploy": "deploy", "status": "emulator"}
DEFAULT_WORKDIR = ROOT / "build" / "local"


@dataclass
class StackResult:
    stack: str
    status: str  # deployed | skipped | failed | destroyed | kept
    seconds: float = 0.0
    applied: int = 0
    excluded: int = 0
    note: str = ""


@dataclass
class Report:
    """Per-stack figures of a run, printed as the summary table."""

    results: list[StackResult] = field(default_factory=list)

    def table(self, title: str) -> list[str]:
        lines = [title, f"  {'stack':20} {'status':10} {'applied':>7} {'excluded':>8} {'seconds':>8}"]
        for r in self.results:
            lines.append(f"  {r.stack:20} {r.status:10} {r.applied:7d} {r.excluded:8d} {r.seconds:8.1f}" + (f"  {r.note}" if r.note else ""))
        done = [r for r in self.results if r.status not in ("skipped", "pending")]
        lines.append(
            f"  {'total':20} {len(done):>3} stacks {sum(r.applied for r in done):7d} "
            f"{sum(r.excluded for r in done):8d} {sum(r.seconds for r in self.results):8.1f}"
        )
        return lines


def environment_stacks(session: Session, environment: str = ENVIRONMENT) -> list[str]:
    """``state-bootstrap``, then the environment's stacks in dependency order."""
    graph = session.manifest()
    return [BOOTSTRAP, *deploy_order(graph, [s for s in graph if s.endswith(f"-{environment}")])]


def with_dependencies(graph: dict[str, list[str]], stacks: list[str]) -> set[str]:
    """``stacks`` and every stack they depend on, directly or not."""
    found: set[str] = set()
    todo = list(stacks)
    while todo:
        stack = todo.pop()
        if stack not in found:
            found.add(stack)
            todo.extend(graph.get(stack, ()))
    return found


def account_of(stack_config: Callable[[str], dict], stacks: list[str]) -> str:
    """The account the environment's stacks allow (moto presents it, so allowed_account_ids holds)."""
    for stack in stacks:
        for provider in stack_config(stack).get("provider", {}).get("aws", []):
            if provider.get("allowed_account_ids"):
                return provider["allowed_account_ids"][0]
    raise ValueError(f"no stack of {stacks} names an allowed account")


def up(workdir: Path, only: list[str] | None = None, keep_on_failure: bool = False, out: TextIO = sys.stdout) -> int:
    session = Session(workdir)
    if session.attach() is not None:
        print(f"local-up: the emulator of {_rel(session.workdir)} already runs at {session.state.url}; `make local-down` first", file=out)
        return 1
    try:
        session.check_tools()
    except tools.MissingTool as exc:
        print(f"local-up: {exc}", file=out)
        return 2
    report = Report()
    started = time.monotonic()
    keep_running = False
    try:
        print(f"local-up: synthesizing with the pinned cdktf CLI into {_rel(session.outdir)}", file=out, flush=True)
        session.synth()
        stacks = environment_stacks(session)
        if only:
            unknown = sorted(set(only) - set(stacks))
            if unknown:
                raise ValueError(f"not a {ENVIRONMENT} stack: {', '.join(unknown)} (choose from {', '.join(stacks)})")
            stacks = [s for s in stacks if s in with_dependencies(session.manifest(), only) or s == BOOTSTRAP]
        state = session.start(account_of(session.stack_config, stacks))
        print(f"local-up: moto on {state.url} (pid {state.pid}, account {state.account_id}, log {_rel(Path(state.log))})", file=out, flush=True)
        plans = session.prepare(stacks)
        report.results = deploy_each(session, plans, out)
        outputs = session.outputs([s for s in stacks if not plans[s].skipped])
        keep_running = True
        _print_outputs(outputs, out)
        _print_left_out(plans, out)
        done = [r for r in report.results if r.status == "deployed"]
        print(
            f"local-up: {len(done)} stacks, {sum(r.applied for r in done)} resources applied, "
            f"{sum(r.excluded for r in done)} excluded, in {time.monotonic() - started:.0f}s",
            file=out,
        )
        _write_env_file(session)
        print(
            f"local-up: the emulator keeps running at {state.url}; `source {_rel(session.workdir / 'env.sh')}` points "
            f"the AWS CLI/SDKs and `npx cdktf ... --output {_rel(session.outdir)} --skip-synth --skip-provider-lock` at it; "
            "`make local-down` destroys and stops it",
            file=out,
        )
        return 0
    except interrupts.Interrupted as exc:
        print(f"\nlocal-up: {exc.name} received: stopping the emulator and every process of this run", file=out, flush=True)
        return exc.exit_code
    except (CommandFailed, server.EmulatorError, tools.MissingTool, ValueError) as exc:
        print(f"local-up: failed: {exc}", file=out, flush=True)
        if keep_on_failure and session.state is not None:
            keep_running = True
            print("local-up: the emulator keeps running for inspection (--keep-on-failure); `make local-down` stops it", file=out)
        return 1
    finally:
        if not keep_running:
            # A Ctrl-C while stopping (after a failure) asks for what is being done.
            with interrupts.ignored():
                session.stop()


def down(workdir: Path, out: TextIO = sys.stdout) -> int:
    session = Session(workdir)
    state = session.attach()
    if state is None:
        # Nothing to destroy: the emulator's resources lived in its memory. Stop leftovers, if any.
        session.stop()
        print(f"local-down: no emulator runs for {_rel(session.workdir)}; nothing to destroy", file=out)
        return 0
    started = time.monotonic()
    try:
        session.check_tools(emulator=False)
        deployed = {s: tf_state for s in environment_stacks(session) if (tf_state := session.state_of(s))}
        stacks = list(deployed)
        print(f"local-down: destroying {len(stacks) - (BOOTSTRAP in stacks)} stacks on {state.url}, latest first", file=out, flush=True)
        lifted = lift_deletion_protection(session, deployed)
        for identifier in lifted:
            print(f"  lifted deletion protection of RDS instance {identifier} (explicit teardown of the emulator)", file=out)
        for stack in reversed(stacks):
            if stack == BOOTSTRAP:
                print(f"  {stack:20} kept: the state bucket and lock table are prevent_destroy; they go with the emulator", file=out)
                continue
            call = session.destroy(stack)
            left = len(managed_resources(session.state_of(stack)))
            print(f"  {stack:20} destroyed, {left} resources left  {call.seconds:6.1f}s", file=out, flush=True)
        print(f"local-down: destroyed in {time.monotonic() - started:.0f}s", file=out)
        return 0
    except interrupts.Interrupted as exc:
        print(f"\nlocal-down: {exc.name} received: stopping the emulator", file=out, flush=True)
        return exc.exit_code
    except (CommandFailed, tools.MissingTool) as exc:
        print(f"local-down: {exc}\nlocal-down: stopping the emulator anyway (its resources live only in its memory)", file=out)
        return 2 if isinstance(exc, tools.MissingTool) else 1
    finally:
        with interrupts.ignored():
            session.stop()
            print("local-down: emulator stopped; no process of the run is left", file=out)
            (session.workdir / "env.sh").unlink(missing_ok=True)


def redeploy(workdir: Path, stacks: list[str], out: TextIO = sys.stdout) -> int:
    """Deploy ``stacks`` again into the running emulator from the run's output, overrides rewritten."""
    session = Session(workdir)
    if session.attach() is None:
        print(f"deploy: no emulator runs for {_rel(session.workdir)}; `make local-up` first", file=out)
        return 1
    try:
        session.check_tools(emulator=False)
        results = deploy_each(session, session.prepare(stacks), out, check=False)
        return 1 if any(r.status == "failed" for r in results) else 0
    except interrupts.Interrupted as exc:
        print(f"\ndeploy: {exc.name} received: stopping the emulator and every process of this run", file=out, flush=True)
        with interrupts.ignored():
            session.stop()
        return exc.exit_code
    except tools.MissingTool as exc:
        print(f"deploy: {exc}", file=out)
        return 2


def deploy_each(session: Session, plans: dict[str, overrides.StackPlan], out: TextIO, check: bool = True) -> list[StackResult]:
    """``cdktf deploy`` of each stack of ``plans`` in their order, one progress line each with
    its time; ``check``: raise :class:`CommandFailed` on a failure, else stop after it."""
    results = []
    for index, (stack, plan) in enumerate(plans.items(), 1):
        prefix = f"  [{index}/{len(plans)}] {stack:20}"
        if plan.skipped:
            results.append(StackResult(stack, "skipped", note=plan.skipped))
            print(f"{prefix} skipped: {plan.skipped}", file=out, flush=True)
            continue
        call = session.deploy(stack, check=check)
        applied = len(managed_resources(session.state_of(stack)))
        result = StackResult(stack, "deployed" if call.ok else "failed", call.seconds, applied, len(plan.excluded_resources))
        results.append(result)
        status = "deployed" if call.ok else f"FAILED (log: {_rel(call.log)})"
        print(f"{prefix} {status} {applied:3d} resources, {result.excluded:2d} excluded  {call.seconds:6.1f}s", file=out, flush=True)
        if not call.ok:
            break
    return results


def status(workdir: Path, out: TextIO = sys.stdout) -> int:
    session = Session(workdir)
    state = session.attach()
    if state is None:
        print(f"emulator: not running ({_rel(session.workdir)})", file=out)
        return 1
    print(f"emulator: running at {state.url} (pid {state.pid}, account {state.account_id})", file=out)
    return 0


def lift_deletion_protection(session: Session, states: dict[str, dict | None]) -> list[str]:
    """Turn off deletion protection of the RDS instances in ``states`` (stack -> its Terraform
    state), as an operator does before destroying.

    The active database is protected on purpose, so ``cdktf destroy`` alone is refused
    (on AWS as on the emulator); retiring an environment lifts it first, explicitly.
    """
    lifted = []
    for state in states.values():
        for resource in (state or {}).get("resources", []):
            if resource.get("type") != "aws_db_instance" or resource.get("mode") != "managed":
                continue
            for instance in resource.get("instances", []):
                attributes = instance.get("attributes", {})
                if attributes.get("deletion_protection"):
                    region = attributes["arn"].split(":")[3]
                    session.client.rds(
                        region, "ModifyDBInstance",
                        DBInstanceIdentifier=attributes["identifier"], DeletionProtection="false", ApplyImmediately="true",
                    )  # fmt: skip
                    lifted.append(attributes["identifier"])
    return lifted


def _print_outputs(outputs: dict[str, dict], out: TextIO) -> None:
    print("outputs (npx cdktf output; sensitive ones are not shown):", file=out)
    for stack, values in outputs.items():
        shown = {k: v for k, v in values.items() if not k.startswith("cross-stack-output-")}
        print(f"  {stack}:", file=out)
        for name, value in sorted(shown.items()):
            print(f"    {name} = {value}", file=out)


def _print_left_out(plans: dict[str, overrides.StackPlan], out: TextIO) -> None:
    lines = []
    for stack, plan in plans.items():
        if plan.skipped:
            lines.append(f"  {stack}: the whole stack: {plan.skipped}")
            continue
        by_reason: dict[str, list[str]] = {}
        for address, reason in plan.excluded.items():
            by_reason.setdefault(reason, []).append(address)
        for reason, addresses in by_reason.items():
            lines.append(f"  {stack}: {len(addresses)} x {_short(addresses)}: {reason}")
        for name, reason in plan.replaced_outputs.items():
            lines.append(f"  {stack}: output {name} reads {overrides.EXCLUDED_OUTPUT!r}: {reason}")
        for what, reason in plan.adjusted.items():
            lines.append(f"  {stack}: {what}: {reason}")
    if lines:
        print("left out or adjusted on the emulator (sophia_infra/emulator/moto_limits.py):", file=out)
        for line in lines:
            print(line, file=out)


def _short(addresses: list[str]) -> str:
    types = sorted({a.split(".")[-2] if a.startswith("data.") else a.split(".")[0] for a in addresses})
    return ", ".join(types)


def _write_env_file(session: Session) -> None:
    env = session.env()
    keys = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_EC2_METADATA_DISABLED", "TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR", "CHECKPOINT_DISABLE"]  # fmt: skip
    lines = ["# Written by make local-up: point the AWS CLI/SDKs, terraform and cdktf at the local emulator."]
    lines += [f"unset {k}" for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")]
    lines += [f"export {k}={_shell_quote(env[k])}" for k in keys]
    (session.workdir / "env.sh").write_text("\n".join(lines) + "\n")


def _shell_quote(value: str) -> str:
    return value if re.fullmatch(r"[\w./:=-]+", value) else "'" + value.replace("'", "'\\''") + "'"


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sophia_infra.emulator", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("up", "down", "status", "deploy"))
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="where the run keeps its output, state file and logs")
    parser.add_argument("--stacks", nargs="+", help="up: deploy only these dev stacks (with the stacks they depend on); deploy: the stacks to deploy again")
    parser.add_argument("--keep-on-failure", action="store_true", help="up: leave the emulator running when a stack fails, to inspect it")
    args = parser.parse_args(argv)
    if args.command == "deploy" and not args.stacks:
        parser.error("deploy needs --stacks")
    # Each command says what an interrupt stopped; the first SIGINT/SIGTERM raises, the
    # ones after it are ignored until the command has stopped what it started.
    try:
        with interrupts.handled(once=True):
            # sys.stdout as it is now (the defaults bound it at import).
            if args.command == "up":
                return up(args.workdir, args.stacks, args.keep_on_failure, out=sys.stdout)
            if args.command == "deploy":
                return redeploy(args.workdir, args.stacks, out=sys.stdout)
            if args.command == "down":
                return down(args.workdir, out=sys.stdout)
            return status(args.workdir, out=sys.stdout)
    except interrupts.Interrupted as exc:  # before a command's own handling began (or after it ended)
        return exc.exit_code
    except server.EmulatorError as exc:  # the state file names no emulator (damaged, or not ours)
        print(f"{PREFIX[args.command]}: {exc}")
        return 1

"""Running a deployment plan: wave after wave, then the post-deployment validation, and
the rollback when the policy asks for it; a summary at the end, also when interrupted
(SIGINT/SIGTERM are passed on to the running cdktf as SIGINT) or when a tool is missing."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
from pathlib import Path

from sophia_infra import interrupts, tools
from sophia_infra.deploy_plan import Plan, rollback_commands


def run(command: list[str]) -> int:
    print(f"$ {shlex.join(command)}", flush=True)
    try:
        process = subprocess.Popen(command)
    except FileNotFoundError:
        print(f"deploy: {tools.MissingTool(command[0])}", file=sys.stderr)
        return 127
    try:
        return process.wait()
    except interrupts.Interrupted:
        # Terraform stops cleanly on SIGINT (finishes the resource in flight, writes state,
        # releases the lock); give it the time that takes.
        interrupts.stop(process, signal.SIGINT, timeout=600)
        raise


def execute(plan: Plan, cdktf: list[str]) -> int:
    """Run the plan; returns the exit code. Prints a summary at the end, interrupted or not."""
    results: list[tuple[str, str]] = []
    state: dict = {"failed": False, "interrupted": None}
    try:
        _execute(plan, cdktf, results, state)
    except interrupts.Interrupted as exc:
        state["interrupted"] = exc
    _summary(plan, results, state)
    if state["interrupted"] is not None:
        return state["interrupted"].exit_code
    return 1 if state["failed"] else 0


def _execute(plan: Plan, cdktf: list[str], results: list[tuple[str, str]], state: dict) -> None:
    for command in plan.pre_commands:
        if run(command) != 0:
            results.append(("pre-deployment validation", "FAILED; nothing was deployed"))
            state["failed"] = True
            return
    attempted = 0
    for wave, command in zip(plan.waves, plan.deploy_commands, strict=False):
        attempted += 1
        try:
            code = run(command)
        except interrupts.Interrupted:
            results += [(name, "INTERRUPTED (cdktf stopped; check its state before re-running)") for name in wave]
            raise
        results += [(name, "deployed" if code == 0 else "FAILED") for name in wave]
        if code != 0:
            state["failed"] = True
            break
    if not state["failed"]:
        for command in plan.post_commands:
            code = run(command)
            if code != 0:
                stack = Path(command[1].removeprefix("-chdir=")).name
                results.append((stack, "post-validation: changes remain" if code == 2 else "post-validation: plan failed"))
                state["failed"] = True
    if state["failed"] and plan.policy.rollback_on_failure:
        commands, new = rollback_commands(plan, attempted, cdktf)
        for command in commands:
            code = run(command)
            results.append((" ".join(command[2 : command.index("--app")]), "rolled back" if code == 0 else "ROLLBACK FAILED"))
        results += [(name, "new stack, not rolled back") for name in new]


def _summary(plan: Plan, results: list[tuple[str, str]], state: dict) -> None:
    print("\nsummary:")
    print(f"  environment: {plan.environment}; approval: {plan.approval}")
    print(f"  clock: window judged at {plan.window.local(plan.now)} ({plan.clock})")
    print(f"  output: {plan.output}")
    if plan.forced_reason:
        print(f"  outside the window, forced: {plan.forced_reason}")
    for name, result in results:
        print(f"  {name}: {result}")
    if state["interrupted"] is not None:
        verdict = f"INTERRUPTED ({state['interrupted'].name})"
    else:
        verdict = "FAILED" if state["failed"] else "deployed"
    print(f"  result: {verdict}", flush=True)

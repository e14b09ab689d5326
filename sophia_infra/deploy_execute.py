"""Running a deployment plan: wave after wave, then the post-deployment validation, and
the rollback when the policy asks for it; a summary at the end."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from sophia_infra.deploy_plan import Plan, rollback_commands


def run(command: list[str]) -> int:
    print(f"$ {shlex.join(command)}", flush=True)
    return subprocess.run(command, check=False).returncode


def execute(plan: Plan, cdktf: list[str]) -> int:
    """Run the plan; returns the exit code. Prints a summary at the end."""
    results: list[tuple[str, str]] = []
    failed = False
    for command in plan.pre_commands:
        if run(command) != 0:
            print("summary: pre-deployment validation failed; nothing was deployed", file=sys.stderr)
            return 1
    attempted = 0
    for wave, command in zip(plan.waves, plan.deploy_commands, strict=False):
        attempted += 1
        code = run(command)
        results += [(name, "deployed" if code == 0 else "FAILED") for name in wave]
        if code != 0:
            failed = True
            break
    if not failed:
        for command in plan.post_commands:
            code = run(command)
            if code != 0:
                stack = Path(command[1].removeprefix("-chdir=")).name
                results.append((stack, "post-validation: changes remain" if code == 2 else "post-validation: plan failed"))
                failed = True
    if failed and plan.policy.rollback_on_failure:
        commands, new = rollback_commands(plan, attempted, cdktf)
        for command in commands:
            code = run(command)
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

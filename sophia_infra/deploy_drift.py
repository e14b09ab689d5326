"""Drift: a read-only ``terraform plan`` of every stack of an environment, whose exit code
says whether the cloud still matches the code (``sophia_infra.deploy --check-drift``)."""

from __future__ import annotations

import shlex
from pathlib import Path

from sophia_infra.deploy_execute import run
from sophia_infra.deploy_plan import PolicyRefusal, environment_graph, part_of, post_validation
from sophia_infra.review import loader


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
        if run(init) != 0:
            results.append((stack, "ERROR (init failed)"))
            continue
        code = run(plan)
        results.append((stack, {0: "in sync", 2: "DRIFT"}.get(code, "ERROR (plan failed)")))
    if dry_run:
        return 0
    print(f"\ndrift summary ({env}):")
    for stack, state in results:
        print(f"  {stack}: {state}")
    if any(state.startswith("ERROR") for _, state in results):
        return 1
    return 3 if any(state == "DRIFT" for _, state in results) else 0

"""Whether the output to deploy is what the working tree (config and code) synthesizes now.

Content decides, not timestamps: a checkout, a copy or a CI artifact keeps no reliable
time, and the deploy job receives ``cdktf.out/`` as an artifact with nothing beside it.
So the app is synthesized again (``main.py`` with this interpreter, a few seconds) into a
locked temporary folder, removed afterwards however this ends (and the next deploy
removes one a killed deploy left), and the environment's stacks and their manifest
entries are compared byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sophia_infra import interrupts, synth
from sophia_infra import outdir as folders
from sophia_infra.deploy_plan import environment_graph
from sophia_infra.review import loader


@dataclass(frozen=True)
class Freshness:
    matches: bool
    detail: str


# What a freshness check writes in its work folder: the synthesis, and its staging.
_WORK_ENTRIES = re.compile(r"^(cdktf\.out|\.cdktf\.out\.(stage|old)-[a-z0-9_]{8})$")


def output_freshness(out: Path, env: str, config_dir: Path | str) -> Freshness:
    """Whether ``out``'s stacks of ``env`` are what the working tree synthesizes now."""
    with folders.work_folder("sophia-deploy-", _WORK_ENTRIES) as work:
        fresh_out = work / "cdktf.out"
        process = synth.start_subprocess(fresh_out, config_dir=Path(config_dir))
        try:
            output, _ = process.communicate()
        finally:
            interrupts.stop(process)  # interrupted: it stops and cleans up after itself
        if process.returncode != 0:
            first = next((line for line in output.splitlines() if line.startswith("synth failed")), output.strip()[-300:])
            return Freshness(False, f"the working tree does not synthesize ({first})")
        return compare_outputs(out, fresh_out, env)


def compare_outputs(out: Path, fresh: Path, env: str) -> Freshness:
    """Whether the stacks of ``env`` in ``out`` equal those in ``fresh`` (files and manifest entries)."""
    head, now = loader.load(out), loader.load(fresh)
    wanted = environment_graph(now, env)
    differ = sorted(
        name
        for name in set(wanted) | set(environment_graph(head, env))
        if name not in head.stacks
        or name not in now.stacks
        or head.stacks[name].dependencies != now.stacks[name].dependencies
        or head.stacks[name].doc != now.stacks[name].doc
    )
    if differ:
        return Freshness(
            False,
            f"STALE: {', '.join(differ)} in {out}/ differ from what the working tree (config and code) synthesizes now",
        )
    return Freshness(True, f"matches the working tree (config and code): {len(wanted)} stacks of {env} compared")

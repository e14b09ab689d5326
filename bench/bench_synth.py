#!/usr/bin/env python
"""Synthesis benchmark: how close is a full synth to the unavoidable floor?

Runs, each in a fresh process and ``--repeat`` times (median reported):

* full   ``python main.py``: every stack of every environment, lazy provider imports;
* floor  a process that only starts the jsii runtime and loads the cdktf, constructs
         and both provider assemblies (no stack built);
* eager  the full synth with the ordinary provider imports (``SOPHIA_EAGER_PROVIDERS=1``).

Wall time and peak memory (RSS of the Python process plus its Node child, sampled
every 20 ms) for each, then the ratios full/floor and eager/full. Figures only:
nothing here asserts a time.

    .venv/bin/python bench/bench_synth.py [--repeat 3] [--skip-eager]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = (
    "from constructs_lib.providers import aws, k8s\n"
    "import cdktf\n"
    "aws.provider, k8s.provider\n"
)


def _tree_rss_kib(pid: int) -> int:
    """RSS of ``pid`` and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak MiB) of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss_kib(process.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{process.stderr.read().decode()}")
    return wall, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-eager", action="store_true", help="skip the slow eager-import runs")
    options = parser.parse_args()

    base_env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    base_env.pop("SOPHIA_EAGER_PROVIDERS", None)
    with tempfile.TemporaryDirectory() as tmp:
        outdir = str(Path(tmp) / "cdktf.out")
        runs = {
            "full": ([sys.executable, "main.py"], {**base_env, "CDKTF_OUTDIR": outdir}),
            "floor": ([sys.executable, "-c", FLOOR], base_env),
        }
        if not options.skip_eager:
            runs["eager"] = ([sys.executable, "main.py"], {**base_env, "CDKTF_OUTDIR": outdir, "SOPHIA_EAGER_PROVIDERS": "1"})
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for _ in range(options.repeat):
            for name, (args, env) in runs.items():
                results[name].append(measure(args, env))
        stacks = len(list((Path(outdir) / "stacks").iterdir()))
        resources = sum(
            len(block)
            for path in (Path(outdir) / "stacks").glob("*/cdk.tf.json")
            for block in __import__("json").loads(path.read_text()).get("resource", {}).values()
        )

    median = {name: (statistics.median(w for w, _ in r), statistics.median(m for _, m in r)) for name, r in results.items()}
    print(f"app: {stacks} stacks, {resources} resources; {options.repeat} runs each, median; {os.cpu_count()} CPUs")
    print(f"{'run':<6} {'wall s':>8} {'peak MiB':>9}")
    for name, (wall, mem) in median.items():
        print(f"{name:<6} {wall:>8.2f} {mem:>9.0f}")
    print(f"full / floor  = {median['full'][0] / median['floor'][0]:.2f}x")
    if "eager" in median:
        print(f"eager / full  = {median['eager'][0] / median['full'][0]:.2f}x")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Synthesis benchmark: how close is a full synth to the unavoidable floor?

Runs, each in a fresh process, ``--repeat`` times (5), interleaved so that a change in
the machine's load hits every variant alike; reports medians:

* full     ``python -O main.py``, as ``make synth`` and ``cdktf synth`` run it: every
           stack of every environment, lazy provider imports, no jsii type checks;
* checked  the same with jsii's runtime type checks (plain ``python``), as the tests run it;
* floor    a process that only starts the jsii runtime and loads the cdktf, constructs
           and both provider assemblies (no construct built): what any cdktf Python app pays;
* eager    the full synth with the ordinary provider imports (``SOPHIA_EAGER_PROVIDERS=1``),
           plain ``python``: what a cdktf Python user gets without constructs_lib/providers.py;
* node     the same app in plain Node (``bench/replay.js``): every cdktf call the full
           synthesis makes, made again directly on cdktf's JavaScript, without Python or
           jsii (recorded once per benchmark run by ``bench/replay.py``; its output is
           checked byte for byte against the Python synthesis before anything is timed).

For each: wall time; CPU time (user+sys of the process and everything it started);
main-thread CPU (the Python process and the jsii kernel's Node process call each other
synchronously, so their main threads take turns: the sum is about the wall time on an
idle machine, and moves much less than wall time with other users' load);
peak memory of the largest process (the jsii Node kernel, as ``/usr/bin/time`` reports
it) and of the whole tree (RSS summed over processes, sampled every 10 ms). Then the
ratios full/floor, checked/full, eager/full and full/node. Figures only: nothing here
asserts a time.

docs/architecture.md ("Performance") explains where the time goes.

    .venv/bin/python bench/bench_synth.py [--repeat 5] [--skip-eager] [--skip-node]
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = (
    "from sophia_infra import jsii_host\njsii_host.install()\n"  # as synthesis runs jsii (one Node process)
    "from constructs_lib.providers import aws, k8s\nimport cdktf\naws.provider, k8s.provider\n"
)


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    main_threads: float
    peak_process_mib: float
    peak_tree_mib: float


def _sample_tree(pid: int, main_thread_ns: dict[int, int]) -> int:
    """RSS (KiB) of ``pid`` and all its descendants; records each one's main-thread CPU time."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{current}/task/{current}/schedstat") as schedstat:
                main_thread_ns[current] = int(schedstat.read().split()[0])
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
    return total


def measure(args: list[str], env: dict[str, str]) -> Run:
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_tree, main_thread_ns = 0, {}
    while True:
        # wait4 gives the run's own rusage: CPU and peak RSS of the child and of every
        # process it waited for (the Node kernel included), as /usr/bin/time reports them.
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak_tree = max(peak_tree, _sample_tree(process.pid, main_thread_ns))
        time.sleep(0.01)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(args)} failed:\n{process.stderr.read().decode()}")
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, sum(main_thread_ns.values()) / 1e9, usage.ru_maxrss / 1024, peak_tree / 1024)


def _same_tree(a: Path, b: Path) -> bool:
    def files(root: Path) -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    names = files(a)
    return names == files(b) and all(filecmp.cmp(a / n, b / n, shallow=False) for n in names)


def _plain_node(tmp: Path, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """Record the app's jsii traffic, set up its JavaScript packages and check that the
    replay writes what Python wrote; the command and environment that run it."""
    trace, recorded, replayed = tmp / "trace", tmp / "recorded.out", tmp / "replayed.out"
    replay = ROOT / "bench" / "replay.py"
    subprocess.run([sys.executable, "-O", str(replay), "record", str(trace), str(recorded)], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, str(replay), "modules", str(trace), str(tmp / "js")], cwd=ROOT, env=env, check=True)
    node_env = {**env, "NODE_PATH": str(tmp / "js" / "node_modules")}
    command = ["node", str(ROOT / "bench" / "replay.js"), str(trace)]
    subprocess.run([*command, str(replayed)], cwd=ROOT, env=node_env, check=True)
    if not _same_tree(recorded, replayed):
        sys.exit(f"bench: the plain-Node replay wrote other files than the synthesis ({replayed} vs {recorded})")
    shutil.rmtree(replayed)
    return command, node_env


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-eager", action="store_true", help="skip the slow eager-import runs")
    parser.add_argument("--skip-node", action="store_true", help="skip the plain-Node replay of the app")
    options = parser.parse_args()

    base_env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    base_env.pop("SOPHIA_EAGER_PROVIDERS", None)
    load_before = _load()
    with tempfile.TemporaryDirectory() as tmp:
        outdir = str(Path(tmp) / "cdktf.out")
        synth_env = {**base_env, "CDKTF_OUTDIR": outdir}
        runs = {
            "full": ([sys.executable, "-O", "main.py"], synth_env),
            "checked": ([sys.executable, "main.py"], synth_env),
            "floor": ([sys.executable, "-O", "-c", FLOOR], base_env),
        }
        if not options.skip_eager:
            runs["eager"] = ([sys.executable, "main.py"], {**synth_env, "SOPHIA_EAGER_PROVIDERS": "1"})
        if not options.skip_node:
            command, node_env = _plain_node(Path(tmp), base_env)
            runs["node"] = ([*command, str(Path(tmp) / "node.out")], node_env)
        results: dict[str, list[Run]] = {name: [] for name in runs}
        for _ in range(options.repeat):
            for name, (args, env) in runs.items():
                results[name].append(measure(args, env))
        stack_files = sorted((Path(outdir) / "stacks").glob("*/cdk.tf.json"))
        resources = sum(len(block) for path in stack_files for block in json.loads(path.read_text()).get("resource", {}).values())

    median = {
        name: Run(*(statistics.median(getattr(r, field) for r in rs) for field in Run.__dataclass_fields__))
        for name, rs in results.items()
    }
    print(
        f"app: {len(stack_files)} stacks, {resources} resources; median of {options.repeat} runs each, interleaved; "
        f"{os.cpu_count()} CPUs; load average {load_before} before, {_load()} after"
    )
    print(f"{'run':<8} {'wall s':>7} {'cpu s':>7} {'main s':>7} {'peak MiB':>9} {'tree MiB':>9}")
    for name, run in median.items():
        print(
            f"{name:<8} {run.wall:>7.2f} {run.cpu:>7.2f} {run.main_threads:>7.2f} "
            f"{run.peak_process_mib:>9.0f} {run.peak_tree_mib:>9.0f}"
        )
    print(
        "cpu: user+sys of every process and thread; main: CPU of the processes' main threads, which\n"
        "take turns (Python waits for Node on every call), so about the wall time on an idle machine;\n"
        "peak: the largest process (the jsii Node kernel; Python for eager); tree: all processes together;\n"
        "node: the same cdktf calls in plain Node, without Python or jsii (output checked identical)"
    )

    def ratio(a: str, b: str) -> str:
        m, n = median[a], median[b]
        return f"{a + ' / ' + b:<16} = {m.wall / n.wall:5.2f}x wall {m.cpu / n.cpu:5.2f}x cpu {m.main_threads / n.main_threads:5.2f}x main"

    print(ratio("full", "floor"))
    print(ratio("checked", "full"))
    if "eager" in median:
        print(ratio("eager", "full"))
    if "node" in median:
        print(ratio("full", "node"))


if __name__ == "__main__":
    main()

"""``make local-up`` / ``make local-down`` as a user runs them: no AWS account, nothing left running.

Each test runs ``python -m sophia_infra.emulator`` (what the make targets run) in
a directory of its own under ``build/e2e/``, as a process group of its own, the
way a terminal runs a command: a Ctrl-C reaches that group.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sophia_infra.emulator import server
from sophia_infra.emulator.session import ROOT

pytestmark = pytest.mark.e2e

WORK = ROOT / "build" / "e2e"

# A developer's own AWS settings, which must not reach the emulator run: each one, if used,
# would fail it (unknown profile, a dead endpoint, a region the stacks do not use).
DEVELOPER_AWS = {
    "AWS_PROFILE": "someone-elses-production",
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "not-a-token",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_REGION": "eu-central-1",
}


def _command(command: str, workdir: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sophia_infra.emulator", command, "--workdir", str(workdir), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _descendants(pid: int) -> dict[int, str]:
    """Live descendants of ``pid`` (pid -> command line), through any session or process group."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := server.proc_stat(int(entry.name))):
            children.setdefault(stat.ppid, []).append(int(entry.name))
    found: dict[int, str] = {}
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        try:
            found[child] = (Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except (FileNotFoundError, ProcessLookupError):
            continue
        todo.extend(children.get(child, []))
    return found


def _run_ids(pids) -> set[str]:
    ids: set[str] = set()
    for pid in pids:
        ids |= server._markers_of(pid)
    return ids


def _wait_for_descendant(process: subprocess.Popen, words: tuple[str, ...], timeout: float = 300) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tree = _descendants(process.pid)
        if any(all(w in cmd for w in words) for cmd in tree.values()):
            return tree
        if process.poll() is not None:
            break
        time.sleep(0.2)
    output = process.communicate(timeout=30)[0] if process.poll() is not None else ""
    raise AssertionError(f"no process running {' '.join(words)} under the command:\n{output}")


def _assert_nothing_left(run_ids: set[str], tree: dict[int, str], workdir: Path) -> None:
    assert run_ids, "the run's processes carried no run marker"
    for run_id in run_ids:
        assert server.marked_processes(run_id) == [], f"processes of run {run_id} still run"
    alive = [pid for pid in tree if server._alive(pid)]
    assert alive == [], f"still running: {[tree[p] for p in alive]}"
    assert not (workdir / "emulator.json").exists(), "the state file of a stopped emulator was left"


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads the process table from /proc")
@pytest.mark.parametrize(
    ("signum", "moment"),
    [
        # Ctrl-C while Terraform applies: the deepest tree (python, node (the CLI), terraform in the
        # CLI's pseudo-terminal session, the provider plugin, moto).
        (signal.SIGINT, ("terraform", "apply")),
        # SIGTERM while the CLI synthesizes: python, node (the CLI), python main.py, node (jsii).
        (signal.SIGTERM, ("main.py",)),
    ],
    ids=["sigint-during-apply", "sigterm-during-synth"],
)
def test_a_signal_at_any_point_leaves_no_process_running(signum, moment):
    workdir = WORK / f"signal-{signal.Signals(signum).name.lower()}"
    project = _entries(ROOT)
    process = _command("up", workdir)
    try:
        tree = _wait_for_descendant(process, moment)
        run_ids = _run_ids(tree)
        # As a terminal does: the signal goes to the command's process group.
        os.killpg(process.pid, signum)
        output = process.communicate(timeout=120)[0]
    finally:
        if process.poll() is None:
            server.terminate_group(process.pid)
    assert process.returncode == 128 + signum, output
    assert f"{signal.Signals(signum).name} received" in output
    tree.update(_descendants(process.pid))
    _assert_nothing_left(run_ids, tree, workdir)
    # No half-written output or working folder left behind, in the run's folder or the project.
    assert not [p.name for p in workdir.iterdir() if p.name.startswith(".cdktf.out.")], sorted(p.name for p in workdir.iterdir())
    assert _entries(ROOT) == project


def _entries(folder: Path) -> set[str]:
    """The top of ``folder``, without the e2e run's own build/ and the tools' caches."""
    return {p.name for p in folder.iterdir()} - {"build", ".pytest_cache", ".ruff_cache"}


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads the process table from /proc")
def test_local_up_then_down_with_a_developers_aws_settings_in_the_environment():
    workdir = WORK / "local"
    up = _command("up", workdir, "--stacks", "security-dev", env=DEVELOPER_AWS)
    output = up.communicate(timeout=1800)[0]
    assert up.returncode == 0, output
    state = server.ServerState.read(workdir / "emulator.json")
    assert state is not None and server.is_running(state), "the emulator does not run after local-up"
    lines = output.splitlines()
    progress = [line for line in lines if line.startswith("  [")]
    assert [line.split()[1] for line in progress] == ["state-bootstrap", "security-dev"], output
    assert all(line.split()[2] == "deployed" and line.rstrip().endswith("s") for line in progress), output
    assert "    kms_data_key_arn = arn:aws:kms:us-west-2:111111111111:key/" in output
    assert "state-bootstrap: 1 x aws_s3_bucket_policy: moto evaluates bucket-policy conditions" in output
    env_file = (workdir / "env.sh").read_text()
    assert f"export AWS_ENDPOINT_URL={state.url}" in env_file and "unset AWS_PROFILE" in env_file
    # The user's own npx cdktf calls after `source env.sh` send no telemetry either.
    assert "export CHECKPOINT_DISABLE=1" in env_file

    down = _command("down", workdir, env=DEVELOPER_AWS)
    output = down.communicate(timeout=1800)[0]
    assert down.returncode == 0, output
    assert re.search(r"^  security-dev +destroyed, 0 resources left", output, re.MULTILINE), output
    _assert_nothing_left({state.run_id}, {state.pid: "moto_server"}, workdir)
    assert not server.answers(state.url)

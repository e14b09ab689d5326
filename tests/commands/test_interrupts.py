"""Interrupted commands leave nothing behind: real SIGINT, SIGTERM and SIGKILL sent to
``main.py``, the review and the deploy command running as subprocesses; and the helpers of
:mod:`sophia_infra.interrupts` they share, in this process.

On the old code SIGTERM ended them at once: the synthesis left its ``.cdktf.out.*``
staging folder (never cleaned), the review a registered git worktree and its temporary
folder, the deployment its running ``cdktf`` without a summary.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sophia_infra import interrupts
from tests import background
from tests.conftest import ROOT, tree_bytes


@pytest.fixture
def dev_only(tmp_path) -> Path:
    """A configuration folder with one environment: synthesizes in a few seconds."""
    return dev_only_config(tmp_path)


def dev_only_config(parent: Path) -> Path:
    config = parent / "config-dev"
    config.mkdir()
    for name in ("project.yaml", "dev.yaml"):
        shutil.copy(ROOT / "config" / name, config / name)
    return config


def previous_output(folder: Path) -> Path:
    (folder / "stacks" / "security-dev").mkdir(parents=True)
    (folder / "stacks" / "security-dev" / "cdk.tf.json").write_text('{"last": "good"}')
    (folder / "manifest.json").write_text('{"stacks": {}}')
    return folder


def wait_for(predicate, timeout: float = 120, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


def start(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen[str]:
    return subprocess.Popen(args, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def staging_folders(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".out."))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_synth_interrupted_removes_its_staging_folder_and_keeps_the_output(tmp_path, dev_only, signum):
    out = previous_output(tmp_path / "out")
    before = tree_bytes(out)
    process = start([sys.executable, "main.py"], {"CDKTF_OUTDIR": str(out), "SOPHIA_CONFIG_DIR": str(dev_only)})
    wait_for(lambda: staging_folders(tmp_path) or process.poll() is not None, what="the staging folder")
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert f"synth interrupted ({signal.Signals(signum).name})" in stderr and "Traceback" not in stderr
    assert staging_folders(tmp_path) == []
    assert tree_bytes(out) == before


def test_next_synth_removes_what_a_killed_one_left(tmp_path, dev_only):
    out = previous_output(tmp_path / "out")
    before = tree_bytes(out)
    process = start([sys.executable, "main.py"], {"CDKTF_OUTDIR": str(out), "SOPHIA_CONFIG_DIR": str(dev_only)})
    wait_for(lambda: staging_folders(tmp_path) or process.poll() is not None, what="the staging folder")
    process.kill()  # SIGKILL: no clean-up possible
    process.communicate(timeout=60)
    left = staging_folders(tmp_path)
    assert left, "SIGKILL left the staging folder (what the next synthesis must clean)"
    # The next synthesis cleans up first, even one that then fails on its configuration.
    (dev_only / "dev.yaml").write_text("aws: [unclosed\n")
    rerun = start([sys.executable, "main.py"], {"CDKTF_OUTDIR": str(out), "SOPHIA_CONFIG_DIR": str(dev_only)})
    _, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 1 and "not valid YAML" in stderr
    assert staging_folders(tmp_path) == []
    assert tree_bytes(out) == before


SLOW_APP = """
import os, pathlib, time
# Written whole, then renamed: the test reads it as soon as the name exists.
pathlib.Path(os.environ["STARTED"] + ".tmp").write_text(str(os.getpid()))
os.replace(os.environ["STARTED"] + ".tmp", os.environ["STARTED"])
time.sleep(120)
"""


def test_review_interrupted_removes_worktree_and_temporary_folder(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.py").write_text(SLOW_APP)

    def git(*args):
        return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    git("add", ".")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "base")
    temp = tmp_path / "tmp"
    temp.mkdir()
    started = tmp_path / "started"
    env = {"TMPDIR": str(temp), "STARTED": str(started), "PYTHONPATH": str(ROOT)}
    process = start([sys.executable, "-m", "sophia_infra.review", "--base-ref", "HEAD", "--head-out", str(tmp_path)], env, cwd=repo)
    wait_for(started.exists, what="the base synthesis to start")
    child = int(started.read_text())
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "review interrupted (SIGTERM)" in stderr and "Traceback" not in stderr
    assert list(temp.iterdir()) == []
    assert len(git("worktree", "list").strip().splitlines()) == 1
    with pytest.raises(ProcessLookupError):  # the base synthesis was stopped too
        for _ in range(100):
            os.kill(child, 0)
            time.sleep(0.05)


FAKE_CDKTF = """
import pathlib, signal, sys, time
log = pathlib.Path(sys.argv[1])
def stop(signum, frame):
    log.write_text(log.read_text() + f"got {signal.Signals(signum).name}\\n")
    sys.exit(130)
signal.signal(signal.SIGINT, stop)
log.write_text("started\\n")
time.sleep(120)
"""


@background.early(needs=["synth_outdir"])
def interrupted_deploy(folder: Path) -> dict:
    """``deploy dev`` against the session's output, sent SIGTERM once its (fake) cdktf runs:
    what it printed, its exit code, what cdktf logged and what it left in its TMPDIR."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    (bin_dir / "terraform").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "terraform").chmod(0o755)
    script, log = folder / "fake_cdktf.py", folder / "cdktf.log"
    script.write_text(FAKE_CDKTF)
    temp = folder / "tmp"
    temp.mkdir()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "TMPDIR": str(temp)}
    out, config = background.result("synth_outdir"), dev_only_config(folder)
    args = [sys.executable, "-m", "sophia_infra.deploy", "dev", "--out", str(out), "--config-dir", str(config)]
    process = background.popen(
        [*args, "--cdktf", f"{sys.executable} {script} {log}"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(lambda: log.exists() or process.poll() is not None, what="cdktf deploy to start")
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    return {"code": process.returncode, "stdout": stdout, "stderr": stderr, "log": log.read_text(), "left": list(temp.iterdir())}


def test_deploy_interrupted_stops_cdktf_cleanly_and_prints_the_summary(interrupted_deploy):
    deployed = interrupted_deploy
    assert deployed["code"] == 143, deployed["stderr"]
    assert deployed["log"] == "started\ngot SIGINT\n"  # passed on as SIGINT: Terraform's clean stop
    assert "security-dev: INTERRUPTED" in deployed["stdout"] and "result: INTERRUPTED (SIGTERM)" in deployed["stdout"]
    assert "output:   matches the working tree" in deployed["stdout"]
    assert deployed["left"] == []


# --- handled(once=True) and ignored(), in this process -----------------------------------
# signal.raise_signal runs the Python handler before it returns: no waiting, no race.


def test_handled_raises_interrupted_with_the_shells_exit_code_and_restores_the_handlers():
    before = {sig: signal.getsignal(sig) for sig in interrupts.SIGNALS}
    with pytest.raises(interrupts.Interrupted) as raised, interrupts.handled():
        signal.raise_signal(signal.SIGTERM)
    assert (raised.value.name, raised.value.exit_code) == ("SIGTERM", 143)
    assert {sig: signal.getsignal(sig) for sig in interrupts.SIGNALS} == before


def test_a_second_signal_cuts_the_clean_up_short_unless_handled_once():
    # What the process had before: Python's default, or SIG_IGN when started in the background.
    before = {sig: signal.getsignal(sig) for sig in interrupts.SIGNALS}

    def run(once: bool) -> list[str]:
        steps = []
        with contextlib.suppress(interrupts.Interrupted), interrupts.handled(once=once):
            try:
                signal.raise_signal(signal.SIGINT)
            finally:
                steps.append("clean-up started")
                signal.raise_signal(signal.SIGINT)  # Ctrl-C again
                signal.raise_signal(signal.SIGTERM)
                steps.append("clean-up done")
        return steps

    assert run(once=False) == ["clean-up started"]
    assert run(once=True) == ["clean-up started", "clean-up done"]
    assert {sig: signal.getsignal(sig) for sig in interrupts.SIGNALS} == before


def test_ignored_shields_a_block_then_gives_the_handlers_back():
    with pytest.raises(interrupts.Interrupted) as raised, interrupts.handled():
        with interrupts.ignored():
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGTERM)  # handled again
    assert raised.value.signum == signal.SIGTERM


def test_deferred_holds_signals_until_the_block_ends():
    steps = []
    with pytest.raises(interrupts.Interrupted) as raised, interrupts.handled():
        with interrupts.deferred():
            signal.raise_signal(signal.SIGTERM)
            steps.append("both renames done")
        steps.append("after the block")
    assert steps == ["both renames done"] and raised.value.signum == signal.SIGTERM

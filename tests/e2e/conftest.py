"""Fixtures for the end-to-end deployment against moto (``make e2e``).

The tests run only with ``SOPHIA_E2E=1`` (``make e2e`` sets it): they need
Terraform, the provider mirror and moto's server (installed by ``make e2e``
into ``.venv-e2e``), and take minutes. Under ``make test`` they are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sophia_infra import terraform_cli as tf
from tests.e2e.emulator import (
    FAKE_CREDENTIALS,
    MotoServer,
    stage_stack,
    write_emulator_overrides,
    write_moto_drift_override,
)

ROOT = Path(__file__).resolve().parents[2]
OUTDIR = Path(os.environ.get("CDKTF_OUTDIR", ROOT / "cdktf.out"))
WORK = ROOT / "build" / "e2e"
MOTO_SERVER = os.environ.get("SOPHIA_MOTO_SERVER", str(ROOT / ".venv-e2e" / "bin" / "moto_server"))


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: deploys synthesized stacks to a local AWS emulator (make e2e)")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SOPHIA_E2E") == "1":
        return
    skip = pytest.mark.skip(reason="end-to-end deployment runs with `make e2e` (SOPHIA_E2E=1)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@dataclass
class Terraform:
    """Runs terraform in a stack's working copy with the emulator's settings."""

    env: dict[str, str]
    log_dir: Path
    calls: list[tuple[str, str, float]] = field(default_factory=list)

    def __call__(self, work: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = tf.run(list(args), work, self.env, timeout=timeout)
        self._record(work, args, result.stdout, result.stderr, started)
        return result

    def ok(self, work: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        result = self(work, *args, timeout=timeout)
        assert result.returncode == 0, f"terraform {' '.join(args)} in {work.name} failed:\n{result.stderr[-4000:]}"
        return result

    def start_interactive_apply(self, work: Path) -> InteractiveApply:
        """``terraform apply`` that plans, takes the lock and waits at the approval prompt."""
        started = time.monotonic()
        env = {**self.env, "TF_INPUT": "1"}
        env.pop("TF_IN_AUTOMATION", None)
        process = subprocess.Popen(
            [tf.terraform_binary(), "apply", "-no-color"],
            cwd=work,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        return InteractiveApply(process, lambda text: self._record(work, ("apply", "(interactive, approved)"), text, "", started))

    def _record(self, work: Path, args, stdout: str, stderr: str, started: float) -> None:
        seconds = time.monotonic() - started
        self.calls.append((work.name, " ".join(args), seconds))
        name = f"{len(self.calls):02d}-{work.name}-{args[0]}.log"
        (self.log_dir / name).write_text(f"$ terraform {' '.join(args)}  ({seconds:.1f}s)\n{stdout}\n--- stderr\n{stderr}")


class InteractiveApply:
    """An apply held at its prompt; output is read in a thread (the prompt has no newline)."""

    def __init__(self, process: subprocess.Popen, on_exit):
        self.process = process
        self._on_exit = on_exit
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while chunk := self.process.stdout.read1(4096):
            self.output += chunk

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace")

    def wait_for_prompt(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while "Enter a value:" not in self.text:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"apply never reached its approval prompt:\n{self.text[-4000:]}")
            time.sleep(0.2)

    def approve(self, timeout: float = 900) -> int:
        self.process.stdin.write(b"yes\n")
        self.process.stdin.close()
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        self._on_exit(self.text)
        return code


@pytest.fixture(scope="session")
def moto():
    if not Path(MOTO_SERVER).exists():
        pytest.fail(f"moto_server not found at {MOTO_SERVER}: run `make e2e` (it installs .venv-e2e)")
    WORK.mkdir(parents=True, exist_ok=True)
    with MotoServer(MOTO_SERVER, WORK / "moto.log") as server:
        yield server


@pytest.fixture(scope="session")
def terraform(moto) -> Terraform:
    mirror = tf.find_mirror()
    cli_config = tf.write_cli_config(ROOT / "build" / "terraform.rc", mirror, ROOT / "build" / "tf-plugin-cache")
    env = tf.terraform_env(
        cli_config,
        {
            **FAKE_CREDENTIALS,
            # Catch-all: a service missing from the override's endpoint list still goes to the emulator.
            "AWS_ENDPOINT_URL": moto.url,
            "AWS_EC2_METADATA_DISABLED": "true",
        },
    )
    for leaked in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        env.pop(leaked, None)
    log_dir = WORK / "logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    runner = Terraform(env, log_dir)
    _calls.append(runner.calls)
    return runner


_calls: list[list[tuple[str, str, float]]] = []


def pytest_terminal_summary(terminalreporter):
    """Time of each Terraform call, so a slow step shows in CI's log (full output: build/e2e/logs/)."""
    for calls in _calls:
        terminalreporter.write_line("terraform calls (stack, command, seconds); logs in build/e2e/logs/:")
        for stack, command, seconds in calls:
            terminalreporter.write_line(f"  {stack:24} {command[:60]:60} {seconds:6.1f}")


@pytest.fixture(scope="session")
def stage(moto):
    """Copy a synthesized stack to build/e2e/<stack> with the emulator overrides."""

    def _stage(stack: str) -> Path:
        source = OUTDIR / "stacks" / stack
        if not (source / "cdk.tf.json").exists():
            pytest.fail(f"{source}/cdk.tf.json missing: run `make synth` first")
        work = stage_stack(source, WORK / "stacks" / stack)
        write_emulator_overrides(work, moto.url)
        write_moto_drift_override(work)
        return work

    return _stage


def stack_config(stack: str) -> dict:
    return json.loads((OUTDIR / "stacks" / stack / "cdk.tf.json").read_text())

"""Fixtures for the end-to-end deployment through the cdktf CLI against moto (``make e2e``).

The tests run only with ``SOPHIA_E2E=1`` (``make e2e`` sets it): they need
Terraform, the provider mirror (or a registry), the pinned cdktf CLI and moto's
server (installed by ``make e2e`` into ``.venv-e2e``), and take minutes. Under
``make test`` they are skipped.

They drive the same code as ``make local-up`` (:mod:`sophia_infra.emulator`), in
their own directory (``build/e2e``), so a local deployment left running is not
disturbed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sophia_infra.emulator import local, overrides
from sophia_infra.emulator.session import Session

ROOT = Path(__file__).resolve().parents[2]
# The project's own output, from `make synth` (make e2e runs it first): the emulator run must match it.
OUTDIR = Path(os.environ.get("CDKTF_OUTDIR", ROOT / "cdktf.out"))
WORK = ROOT / "build" / "e2e"


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: deploys synthesized stacks to a local AWS emulator (make e2e)")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SOPHIA_E2E") == "1":
        return
    skip = pytest.mark.skip(reason="end-to-end deployment runs with `make e2e` (SOPHIA_E2E=1)")
    for item in items:
        # The marker, not the keyword: every test in this directory has the keyword "e2e".
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)


class Run:
    """The session's emulator run and what the tests learn as they go, for the summary."""

    def __init__(self, session: Session):
        self.session = session
        self.stacks: list[str] = []
        self.plans: dict[str, overrides.StackPlan] = {}
        self.report = local.Report()

    def result(self, stack: str) -> local.StackResult:
        for result in self.report.results:
            if result.stack == stack:
                return result
        result = local.StackResult(stack, "pending")
        self.report.results.append(result)
        return result


_runs: list[Run] = []


@pytest.fixture(scope="session")
def run() -> Run:
    """moto on 127.0.0.1, presenting the dev account; stopped (with every process of the run) at the end."""
    if not (OUTDIR / "manifest.json").exists():
        pytest.fail(f"{OUTDIR}/manifest.json missing: run `make synth` first")
    session = Session(WORK)
    if session.attach() is not None:
        pytest.fail(f"an emulator of an earlier run still runs ({session.state.url}); stop it: "
                    f"python -m sophia_infra.emulator down --workdir {WORK}")  # fmt: skip
    stacks = json.loads((OUTDIR / "manifest.json").read_text())["stacks"]
    dev = [name for name in stacks if name.endswith(f"-{local.ENVIRONMENT}")]
    account = local.account_of(lambda stack: json.loads((OUTDIR / "stacks" / stack / "cdk.tf.json").read_text()), dev)
    session.start(account)
    current = Run(session)
    _runs.append(current)
    try:
        yield current
    finally:
        session.stop()


def pytest_terminal_summary(terminalreporter):
    """Per stack: resources applied / excluded and the time; every CLI call's time; the exclusions."""
    for current in _runs:
        write = terminalreporter.write_line
        for line in current.report.table("e2e through the cdktf CLI on moto (applied = managed resources in the stack's state):"):
            write(line)
        write(f"cdktf calls (seconds); logs in {current.session.log_dir}:")
        for call in current.session.calls:
            write(f"  {call.seconds:7.1f}  exit {call.returncode}  {call.log.stem[3:]}")
        lines = []
        for stack, plan in current.plans.items():
            if plan.skipped:
                lines.append(f"  {stack}: not deployed: {plan.skipped}")
            for address, reason in plan.excluded.items():
                lines.append(f"  {stack}: {address}: {reason}")
        if lines:
            write("excluded on the emulator (sophia_infra/emulator/moto_limits.py):")
            for line in lines:
                write(line)

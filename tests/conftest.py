"""Shared fixtures: the app is synthesized once per session, in a subprocess, exactly as
``make synth`` does it, and every test that needs synthesized output reads that tree.

Subprocess synths that tests need (a second run for determinism, an eager-import
run for the provider loader) start together right after collection, so that on a
2-core machine they overlap instead of adding up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ROOT = Path(__file__).resolve().parents[1]

# Which background synths the selected tests need: fixture name -> environment overrides.
_RUN_ENV = {
    "synth_outdir": {},
    "second_synth_outdir": {},
    "eager_synth_outdir": {"SOPHIA_EAGER_PROVIDERS": "1"},
    "cli_synth_outdir": {},
}
_runs: dict[str, tuple[subprocess.Popen, Path]] = {}


def start_synth(outdir: Path, extra_env: dict[str, str] | None = None, config_dir: Path | None = None) -> subprocess.Popen:
    """Start ``python main.py`` writing to ``outdir`` (optionally with another config dir)."""
    env = {**os.environ, "CDKTF_OUTDIR": str(outdir), **(extra_env or {})}
    if config_dir is not None:
        env["SOPHIA_CONFIG_DIR"] = str(config_dir)
    return subprocess.Popen([sys.executable, str(ROOT / "main.py")], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def start_cli_synth(outdir: Path) -> subprocess.Popen:
    """``npx cdktf synth --output outdir`` with the CLI pinned in package-lock.json, as a user runs it."""
    env = {**os.environ, "CI": "true", "CHECKPOINT_DISABLE": "1"}
    command = ["npx", "--no", "cdktf", "synth", "--output", str(outdir)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests that wait for the slow background synths (eager import: ~40 s) run last,
    # so that the rest of the suite runs meanwhile on the other core.
    slow = {"second_synth_outdir", "eager_synth_outdir", "cli_synth_outdir"}
    items.sort(key=lambda item: bool(slow & set(getattr(item, "fixturenames", ()))))


def pytest_collection_finish(session: pytest.Session) -> None:
    wanted = {name for item in session.items for name in getattr(item, "fixturenames", ()) if name in _RUN_ENV}
    base = Path(session.config._tmp_path_factory.mktemp("synth"))  # type: ignore[attr-defined]
    for name in sorted(wanted):
        outdir = base / name / "cdktf.out"
        outdir.parent.mkdir(parents=True)
        process = start_cli_synth(outdir) if name == "cli_synth_outdir" else start_synth(outdir, _RUN_ENV[name])
        _runs[name] = (process, outdir)


def _finish(name: str) -> Path:
    process, outdir = _runs[name]
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        pytest.fail(f"synth ({name}) failed with exit code {process.returncode}:\n{stderr}\n{stdout}")
    return outdir


@pytest.fixture(scope="session")
def synth_outdir() -> Path:
    """``cdktf.out/`` of the app as committed (lazy provider imports)."""
    return _finish("synth_outdir")


@pytest.fixture(scope="session")
def second_synth_outdir() -> Path:
    """A second, independent synth of the same input."""
    return _finish("second_synth_outdir")


@pytest.fixture(scope="session")
def eager_synth_outdir() -> Path:
    """The same app synthesized with the ordinary (eager) provider imports."""
    return _finish("eager_synth_outdir")


@pytest.fixture(scope="session")
def cli_synth_outdir() -> Path:
    """The app synthesized by the pinned cdktf CLI (``npx cdktf synth``) instead of ``python main.py``."""
    return _finish("cli_synth_outdir")


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> content), to compare outputs byte for byte."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def strip_metadata(value):
    """Drop cdktf's ``//`` metadata keys (construct paths), as ``Testing.synth`` does."""
    if isinstance(value, dict):
        return {k: strip_metadata(v) for k, v in value.items() if k != "//"}
    if isinstance(value, list):
        return [strip_metadata(v) for v in value]
    return value


def load_stack(outdir: Path, stack: str) -> dict:
    """A synthesized stack's Terraform JSON without metadata."""
    return strip_metadata(json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text()))


@pytest.fixture(scope="session")
def stack_json(synth_outdir):
    """``stack_json("networking-dev")`` -> that stack's Terraform JSON (metadata stripped)."""
    cache: dict[str, dict] = {}

    def get(stack: str) -> dict:
        if stack not in cache:
            cache[stack] = load_stack(synth_outdir, stack)
        return cache[stack]

    return get

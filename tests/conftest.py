"""Shared fixtures: the app is synthesized once per session, in a subprocess, exactly as
``make synth`` does it, and every test that needs synthesized output reads that tree.

That synth and the others tests compare it with (a second run for determinism, an
eager-import run for the provider loader, the cdktf CLI's) start in the background when
collection ends (tests/background.py), so that on a 2-core machine they overlap with the
tests that need no synth, which run first.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sophia_infra import jsii_host
from tests import background

# These machines set PYTHONDONTWRITEBYTECODE: pytest would then rewrite the asserts of
# every test module again on each run (~2 s of collection). Its cache, like Python's, is
# checked against each source's mtime and size, and __pycache__/ is ignored by git.
sys.dont_write_bytecode = False

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# As synthesis does: the jsii kernel in one Node process, not behind a relay (see there);
# the synths started below inherit it.
jsii_host.install()

# As in main.py: the cyclic collector freed ~26,000 objects over the whole suite and took
# 1.45 s, 17 % of the pytest process's CPU (jsii objects are never freed anyway).
gc.disable()

ROOT = Path(__file__).resolve().parents[1]

# As make synth and cdktf.json run the app: without jsii's runtime type checks (-O).
SYNTH_FLAGS = ("-O",)


def start_synth(
    outdir: Path,
    extra_env: dict[str, str] | None = None,
    config_dir: Path | None = None,
    flags: tuple[str, ...] = SYNTH_FLAGS,
) -> subprocess.Popen:
    """Start ``python main.py`` writing to ``outdir`` (optionally with another config dir)."""
    return subprocess.Popen(
        [sys.executable, *flags, str(ROOT / "main.py")],
        cwd=ROOT,
        env=synth_env(outdir, extra_env, config_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def synth_env(outdir: Path, extra_env: dict[str, str] | None = None, config_dir: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "CDKTF_OUTDIR": str(outdir), **(extra_env or {})}
    if config_dir is not None:
        env["SOPHIA_CONFIG_DIR"] = str(config_dir)
    return env


# The session's synths of the app, in the background from the session's start (see
# tests/background.py), in this order: synth_outdir is read by most tests, then the
# eager one, the longest (~10 s of CPU). Each is compared with synth_outdir: the eager
# one runs with jsii's type checks (without -O), the CLI's is a second process of the
# same input, and qa_beside_dev's dev stacks come from another set of environments.


@background.early()
def synth_outdir(folder: Path) -> Path:
    """``cdktf.out/`` of the app as committed (lazy provider imports), as make synth writes it."""
    outdir = folder / "cdktf.out"
    background.run([sys.executable, *SYNTH_FLAGS, str(ROOT / "main.py")], cwd=ROOT, env=synth_env(outdir))
    return outdir


@background.early()
def eager_synth_outdir(folder: Path) -> Path:
    """The same app synthesized with the ordinary (eager) provider imports."""
    outdir = folder / "cdktf.out"
    env = synth_env(outdir, {"SOPHIA_EAGER_PROVIDERS": "1"})
    background.run([sys.executable, str(ROOT / "main.py")], cwd=ROOT, env=env)
    return outdir


@background.early()
def cli_synth_outdir(folder: Path) -> Path:
    """The app synthesized by the pinned cdktf CLI (``npx cdktf synth``, package-lock.json) instead of
    ``python main.py``, as a user runs it."""
    outdir = folder / "cdktf.out"
    env = {**os.environ, "CI": "true", "CHECKPOINT_DISABLE": "1"}
    background.run(["npx", "--no", "cdktf", "synth", "--output", str(outdir)], cwd=ROOT, env=env)
    return outdir


@background.early()
def qa_beside_dev(folder: Path) -> tuple[Path, str]:
    """The app synthesized with a new environment file, qa, beside dev (the others dropped
    to halve the synth): its output folder and what it printed."""
    from tests.config_files import add_environment  # jsii-free: this runs beside the tests

    config_dir = folder / "config"
    config_dir.mkdir()
    for name in ("project.yaml", "dev.yaml"):
        shutil.copy(ROOT / "config" / name, config_dir / name)
    add_environment(config_dir, "qa")
    outdir = folder / "out"
    command = [sys.executable, *SYNTH_FLAGS, str(ROOT / "main.py")]
    return outdir, background.run(command, cwd=ROOT, env=synth_env(outdir, config_dir=config_dir)).stdout


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    # Modules that need no background work run first, while it runs on the other core;
    # then those that read the app as make synth writes it (~3 s of CPU: done by then);
    # last those that wait for the rest (the eager-import synth alone is ~10 s of CPU).
    # A module moves as a whole, so that its module-scoped fixtures are set up once.
    def waits_for(item: pytest.Item) -> int:
        needed = background.needed_by(getattr(item, "fixturenames", ()))
        if needed - {"synth_outdir"}:
            return 2
        return 1 if needed else 0

    def module(item: pytest.Item) -> str:
        return item.nodeid.split("::")[0]

    tier: dict[str, int] = {}
    for item in items:
        tier[module(item)] = max(tier.get(module(item), 0), waits_for(item))
    items.sort(key=lambda item: tier[module(item)])


def pytest_collection_finish(session: pytest.Session) -> None:
    # Only what the selected tests need (-k and -m deselect).
    if session.config.option.collectonly:
        return
    needed = background.needed_by(name for item in session.items for name in getattr(item, "fixturenames", ()))
    base = Path(session.config._tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]
    background.start(needed, base / "early")


def pytest_unconfigure(config: pytest.Config) -> None:
    # As main.py: Python's teardown would run a full collection over everything the session
    # kept (~0.3 s); frozen objects are skipped. Registered here, it runs after pytest's
    # own clean-up, which still collects garbage to report unraisable exceptions.
    atexit.register(gc.freeze)


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Interrupted, or a test that needed the work did not run (-x): nothing outlives the session.
    background.stop()


def load_yaml(text: str):
    """``yaml.safe_load`` by libyaml: PyYAML's pure-Python parser took ~1.5 s of the suite's CPU."""
    return yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506 - a SafeLoader


def dump_yaml(data, **options) -> str:
    """``yaml.safe_dump`` by libyaml."""
    return yaml.dump(data, Dumper=yaml.CSafeDumper, **options)


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

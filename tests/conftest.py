"""Shared fixtures: the app is synthesized once per session, in a subprocess, exactly as
``make synth`` does it, and every test that needs synthesized output reads that tree.

Subprocess synths that tests need (a second run for determinism, an eager-import
run for the provider loader) start as soon as collection meets the first test that
needs each, so that on a 2-core machine they overlap with collection and with the
tests that need no synth, which run first.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sophia_infra import jsii_host

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

# Background synths, by the fixture that waits for one: (environment overrides, Python
# flags, whether to run it at a lower priority). The second synth keeps jsii's type
# checks: byte-identical output also shows -O changes nothing. Only the last one needed
# yields the CPU: the eager one (~13 s of CPU) is the suite's longest task, the first is
# read by the middle tier of tests (see pytest_collection_modifyitems).
_RUNS = {
    "eager_synth_outdir": ({"SOPHIA_EAGER_PROVIDERS": "1"}, (), False),
    "synth_outdir": ({}, SYNTH_FLAGS, False),
    "second_synth_outdir": ({}, (), True),
    # `npx cdktf synth` (the CLI pinned in package-lock.json) instead of python main.py.
    "cli_synth_outdir": ({}, (), True),
}
_runs: dict[str, tuple[subprocess.Popen, Path]] = {}


def start_synth(
    outdir: Path,
    extra_env: dict[str, str] | None = None,
    config_dir: Path | None = None,
    flags: tuple[str, ...] = SYNTH_FLAGS,
    background: bool = False,
) -> subprocess.Popen:
    """Start ``python main.py`` writing to ``outdir`` (optionally with another config dir).

    A ``background`` synth runs at a lower priority, so that the tests running meanwhile
    in the pytest process do not wait for a core."""
    env = {**os.environ, "CDKTF_OUTDIR": str(outdir), **(extra_env or {})}
    if config_dir is not None:
        env["SOPHIA_CONFIG_DIR"] = str(config_dir)
    return subprocess.Popen(
        [sys.executable, *flags, str(ROOT / "main.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=(lambda: os.nice(10)) if background else None,
    )


def pytest_itemcollected(item: pytest.Item) -> None:
    # Start a background synth as soon as a collected test needs it, not after collection.
    for name in _RUNS:
        if name not in _runs and name in getattr(item, "fixturenames", ()):
            base = Path(item.config._tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]
            outdir = base / "synth" / name / "cdktf.out"
            outdir.parent.mkdir(parents=True)
            extra_env, flags, background = _RUNS[name]
            if name == "cli_synth_outdir":
                process = start_cli_synth(outdir)
            else:
                process = start_synth(outdir, extra_env, flags=flags, background=background)
            _runs[name] = (process, outdir)


def start_cli_synth(outdir: Path) -> subprocess.Popen:
    """``npx cdktf synth --output outdir`` with the CLI pinned in package-lock.json, as a user runs it."""
    env = {**os.environ, "CI": "true", "CHECKPOINT_DISABLE": "1"}
    command = ["npx", "--no", "cdktf", "synth", "--output", str(outdir)]
    # A session of its own: npx starts node, which starts the app (python, then node for jsii).
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: os.nice(10), start_new_session=True,
    )  # fmt: skip


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    # Modules that need no background synth run first, while the synths run on the other
    # core; then those that read the app as make synth writes it (~3 s of CPU: done by
    # then); last those that wait for the second and the eager-import synth (~13 s).
    # A module moves as a whole, so that its module-scoped fixtures are set up once.
    def waits_for(item: pytest.Item) -> int:
        needed = set(getattr(item, "fixturenames", ()))
        if needed & {"second_synth_outdir", "eager_synth_outdir", "cli_synth_outdir"}:
            return 2
        return 1 if "synth_outdir" in needed else 0

    def module(item: pytest.Item) -> str:
        return item.nodeid.split("::")[0]

    tier: dict[str, int] = {}
    for item in items:
        tier[module(item)] = max(tier.get(module(item), 0), waits_for(item))
    items.sort(key=lambda item: tier[module(item)])


def pytest_collection_finish(session: pytest.Session) -> None:
    # -k or -m may have deselected every test that needed a synth started during collection.
    wanted = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    for name in set(_runs) - wanted:
        _stop(_runs.pop(name)[0])


def pytest_unconfigure(config: pytest.Config) -> None:
    # As main.py: Python's teardown would run a full collection over everything the session
    # kept (~0.3 s); frozen objects are skipped. Registered here, it runs after pytest's
    # own clean-up, which still collects garbage to report unraisable exceptions.
    atexit.register(gc.freeze)


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Interrupted, or a test that needed a synth did not run (-x): no synth outlives the session.
    for process, _ in _runs.values():
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            # The CLI synth leads a process group of its own (npx, node, the app); others do not.
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
    process.communicate()


def _finish(name: str) -> Path:
    process, outdir = _runs[name]
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        pytest.fail(f"synth ({name}) failed with exit code {process.returncode}:\n{stderr}\n{stdout}")
    return outdir


@pytest.fixture(scope="session")
def synth_outdir() -> Path:
    """``cdktf.out/`` of the app as committed (lazy provider imports), as make synth writes it."""
    return _finish("synth_outdir")


@pytest.fixture(scope="session")
def second_synth_outdir() -> Path:
    """A second, independent synth of the same input, with jsii's runtime type checks."""
    return _finish("second_synth_outdir")


@pytest.fixture(scope="session")
def eager_synth_outdir() -> Path:
    """The same app synthesized with the ordinary (eager) provider imports."""
    return _finish("eager_synth_outdir")


@pytest.fixture(scope="session")
def cli_synth_outdir() -> Path:
    """The app synthesized by the pinned cdktf CLI (``npx cdktf synth``) instead of ``python main.py``."""
    return _finish("cli_synth_outdir")


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

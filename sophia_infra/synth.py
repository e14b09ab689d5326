"""Synthesize the app atomically: all of ``cdktf.out/`` or none of it.

The app is synthesized into a temporary sibling directory and swapped in only on
success, so a bad configuration or a construct that rejects its arguments leaves
the previous output exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from cdktf import App

import sophia_config as config_mod
from constructs_lib import guards
from constructs_lib.errors import ValidationError

DEFAULT_OUTDIR = "cdktf.out"
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"


def synthesize(outdir: Path | str = DEFAULT_OUTDIR, config_dir: Path | str = DEFAULT_CONFIG_DIR) -> Path:
    """Synthesize into ``outdir``, replacing it only if synthesis succeeds."""
    outdir = Path(outdir).resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    # Validate the configuration before paying for the jsii runtime.
    app_config = config_mod.load(config_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        from stacks import build_app

        app = App(outdir=str(staging))
        build_app(app, app_config)
        app.synth()
        # The guards judge what was synthesized: fail before cdktf.out/ is replaced.
        guards.check(app)
        _swap(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return outdir


def _swap(new: Path, target: Path) -> None:
    # Two renames within one directory: the old output is replaced as a whole.
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _user_error(exc: BaseException) -> str | None:
    """The message of an error the user can fix, or None for a bug (shown with its traceback).

    The guards judge the synthesized output after it is written, in Python, so no user
    error reaches us wrapped by the jsii kernel."""
    if isinstance(exc, (config_mod.ConfigError, ValidationError)):
        return str(exc)
    return None


def main() -> int:
    # cdktf synth passes its output directory in CDKTF_OUTDIR.
    outdir = os.environ.get("CDKTF_OUTDIR", DEFAULT_OUTDIR)
    config_dir = os.environ.get("SOPHIA_CONFIG_DIR", DEFAULT_CONFIG_DIR)
    try:
        synthesize(outdir, config_dir)
    except Exception as exc:  # noqa: BLE001 - report user errors cleanly, re-raise bugs
        message = _user_error(exc)
        if message is None:
            raise
        print(f"synth failed: {message}", file=sys.stderr)
        print(f"synth failed: {outdir}/ was left unchanged", file=sys.stderr)
        return 1
    return 0

"""Synthesize the app atomically: all of ``cdktf.out/`` or none of it.

The app is synthesized into a locked staging folder next to the output
(:mod:`sophia_infra.outdir`) and swapped in only on success, so a bad configuration, a
construct that rejects its arguments, a secret-shaped value or an interrupt leaves the
previous output exactly as it was. The output folder must be a dedicated one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from constructs_lib.errors import ValidationError
from constructs_lib.security import secret_scan
from sophia_infra import interrupts, jsii_host, tools
from sophia_infra import outdir as folders

DEFAULT_OUTDIR = "cdktf.out"
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"


def synthesize(outdir: Path | str = DEFAULT_OUTDIR, config_dir: Path | str = DEFAULT_CONFIG_DIR) -> Path:
    """Synthesize into ``outdir``, replacing it only if synthesis succeeds."""
    # A folder that may not be replaced is refused before anything starts: at once.
    outdir = folders.check_replaceable(outdir)
    # pydantic and the model (~0.1 s): imported here, so that --help, a missing node and a
    # refused folder answer at once. The model imports no cdktf (constructs_lib/__init__.py).
    import sophia_config as config_mod

    folders.remove_stale(outdir)  # left by a synthesis that was killed
    app_config = config_mod.load(config_dir)
    # The jsii runtime starts at cdktf's first import, just below, and runs on the host
    # installed now; a configuration error was reported without either.
    jsii_host.install()
    with folders.staging(outdir) as staging:
        from cdktf import App

        from constructs_lib import guards
        from stacks import build_app

        app = App(outdir=str(staging))
        build_app(app, app_config)
        app.synth()
        # The guards judge what was synthesized: fail before cdktf.out/ is replaced.
        guards.check(app)
        _refuse_secrets(staging)
        folders.replace(staging, outdir)
    return outdir


def start_subprocess(outdir: Path, tree: Path = folders.REPOSITORY, config_dir: Path | None = None) -> subprocess.Popen[str]:
    """``main.py`` of ``tree`` (a checkout; the working tree by default) synthesizing into
    ``outdir`` in a child process, what it prints on stdout and stderr together. This
    interpreter runs any tree: the tree's code is imported first (its script directory and
    ``PYTHONPATH`` come before site-packages), the libraries from the current virtualenv."""
    env = dict(os.environ, CDKTF_OUTDIR=str(outdir), PYTHONPATH=str(tree))
    # An older tree's package may not silence jsii's Node 20 banner itself.
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    if config_dir is not None:
        env["SOPHIA_CONFIG_DIR"] = str(Path(config_dir).resolve())
    return subprocess.Popen(
        [sys.executable, str(tree / "main.py")], cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _refuse_secrets(staging: Path) -> None:
    found = secret_scan.scan_output(staging)
    if found:
        lines = "\n  ".join(found)
        raise ValidationError(f"{len(found)} secret-shaped value(s) in the synthesized output:\n  {lines}")


def _user_error(exc: BaseException) -> str | None:
    """The message of an error the user can fix, or None for a bug (shown with its traceback).

    The guards judge the synthesized output after it is written, in Python, so no user
    error reaches us wrapped by the jsii kernel."""
    if isinstance(exc, (ValidationError, folders.OutdirError)):
        return str(exc)
    # Imported only now (see synthesize): a configuration error can only come after it was.
    from sophia_config.reader import ConfigError

    return str(exc) if isinstance(exc, ConfigError) else None


ENVIRONMENT = {
    "CDKTF_OUTDIR": f"the output folder (default {DEFAULT_OUTDIR}; cdktf synth sets it). It must be a dedicated "
    "folder: it is replaced as a whole",
    "SOPHIA_CONFIG_DIR": "the configuration folder: project.yaml and one <env>.yaml per environment (default config/)",
    "SOPHIA_EAGER_PROVIDERS": "1 = import the provider bindings eagerly (slow; to compare with the lazy loader)",
    "SOPHIA_LAZY_NODE": "0 = let Node load every provider submodule too (for the benchmark)",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20 (set by the sophia_infra package) silences jsii's Node 20 banner",
}


def _parser() -> argparse.ArgumentParser:
    epilog = "environment variables:\n" + "\n".join(f"  {name}\n      {text}" for name, text in ENVIRONMENT.items())
    return argparse.ArgumentParser(
        prog="main.py",
        description="Synthesize every stack of every environment in the configuration folder into the output "
        "folder (Terraform JSON, one folder per stack), all or nothing: on any error the previous output is "
        "left as it was. Run by make synth and cdktf synth.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def main(argv: list[str] | None = None) -> int:
    """``argv``: the command-line arguments (``main.py`` passes its own; none otherwise)."""
    _parser().parse_args(argv or [])
    # cdktf synth passes its output directory in CDKTF_OUTDIR.
    outdir = os.environ.get("CDKTF_OUTDIR", DEFAULT_OUTDIR)
    config_dir = os.environ.get("SOPHIA_CONFIG_DIR", DEFAULT_CONFIG_DIR)
    try:
        with interrupts.handled():
            tools.require("node")
            written = synthesize(outdir, config_dir)
    except tools.MissingTool as exc:
        print(f"synth failed: {exc}", file=sys.stderr)
        return 2
    except interrupts.Interrupted as exc:
        print(f"synth interrupted ({exc.name}): {outdir}/ was left unchanged", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - report user errors cleanly, re-raise bugs
        message = _user_error(exc)
        if message is None:
            raise
        print(f"synth failed: {message}", file=sys.stderr)
        if not isinstance(exc, folders.OutdirError):  # a refused folder was never touched
            print(f"synth failed: {outdir}/ was left unchanged", file=sys.stderr)
        return 1
    print(f"synth: wrote {folders.describe_output(written)}")
    return 0

"""Write the optimized bytecode (``.opt-1.pyc``) of every module a synthesis imports.

``make synth`` and ``cdktf synth`` (``cdktf.json``) run ``python -O main.py``: without
jsii's runtime type checks, which cost ~10 % of a synthesis (the tests keep them).
Python caches ``-O`` bytecode apart from the ordinary one, and pip only writes the
ordinary one; where ``PYTHONDONTWRITEBYTECODE`` is set, nothing would ever be cached
and every run would compile ~35 MB of generated provider bindings again (~2 s).

``make`` runs this once after installing: it synthesizes the app into a temporary
directory under ``-O`` and compiles each module that run imported. Compiling every
module of the venv instead would take ~30 s of CPU and ~300 MB for the ~2,100
provider modules the app never imports. The provider submodules it imports have a
loader of their own (``constructs_lib/providers.py``: annotations postponed), which
caches their bytecode itself. A module the app starts to use later is compiled in
memory, as before, until the next install. Bytecode is checked against its source on
every import, so it cannot make the output stale.
"""

from __future__ import annotations

import compileall
import importlib.machinery
import sys
import tempfile
from pathlib import Path


def main() -> int:
    if not sys.flags.optimize:
        sys.exit("run as: python -O -m sophia_infra.precompile")
    from sophia_infra import synth

    with tempfile.TemporaryDirectory() as tmp:
        try:
            synth.synthesize(Path(tmp) / "cdktf.out")
        except Exception as exc:  # noqa: BLE001 - a warm-up: a bad config must not fail the install
            print(f"precompile: synthesis failed ({exc.__class__.__name__}); compiling what it imported")
    files = sorted(
        {
            m.__file__
            for m in list(sys.modules.values())
            if (getattr(m, "__file__", None) or "").endswith(".py")
            # Modules of another loader (the provider submodules) are cached by it.
            and type(getattr(m, "__loader__", None)) is importlib.machinery.SourceFileLoader
        }
    )
    failed = [f for f in files if not compileall.compile_file(f, quiet=2, optimize=1)]
    print(f"precompile: optimized bytecode for {len(files) - len(failed)} modules" + (f", {len(failed)} failed" if failed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

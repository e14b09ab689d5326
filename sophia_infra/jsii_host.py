"""Run the jsii kernel in one Node process instead of two.

jsii's Python runtime starts ``node jsii-runtime.js``, a relay that starts a second
Node process for the kernel and copies every message between Python's pipes and the
kernel's channel (file descriptor 3), so that a JavaScript library writing to stdout
cannot corrupt the protocol. A synthesis sends ~4,300 messages; each crosses the relay
twice, and the relay is a Node process of its own: 0.33 s of CPU (half of it system
time) and ~0.4 s of wall time per synthesis on the 2-core machine.

:func:`install` points jsii at a host of our own instead, through the two environment
variables its Python runtime reads (``JSII_RUNTIME``, ``JSII_NODE``): ``jsii_host.js``
(next to this file) sends the process's stdout and stderr writes to stderr in the
relay's framing, then runs jsii's kernel bundle with its channel on stdin/stdout. The
bundle is jsii's own ``lib/program.js``, changed in one place (the file descriptors);
if that place is not found exactly once (another jsii version), nothing is installed
and jsii's relay is used as before. The kernel needs ``node --preserve-symlinks`` (it
then symlinks each cached package rather than copying it), which the relay passed
itself: the ``node`` wrapper next to the host does.

The host is written once per virtual environment under ``sys.prefix``, in a folder
named for the hash of everything in it, so a changed jsii or host file is a new folder,
never a stale one. The variables are inherited, so the synthesis processes the tests
start use the host as well. A user's own ``JSII_RUNTIME`` or ``JSII_NODE`` is left alone.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

_FORMAT = "1"
# jsii's kernel reads and writes its channel on descriptor 3, opened by the relay.
_CHANNEL = b"readFD:3,writeFD:3"
_STDIO = b"readFD:0,writeFD:1"
_HOST = Path(__file__).with_name("jsii_host.js")
# --preserve-symlinks: the kernel needs it (the relay passed it). A young generation of at
# most 8 MiB per semi-space (V8's default here is 16): the kernel's peak memory ~225 MiB
# instead of ~241 (median of 9), no measurable change in time.
_WRAPPER = b'#!/bin/sh\n# sophia_infra/jsii_host.py explains the options.\nexec node --preserve-symlinks --max-semi-space-size=8 "$@"\n'


def _jsii_file(name: str) -> bytes:
    import importlib.resources

    import jsii._embedded.jsii as embedded

    return importlib.resources.files(embedded).joinpath(name).read_bytes()


def host_files() -> dict[str, bytes] | None:
    """The host folder's files (name -> content), or None if jsii's kernel bundle does not
    have the one line this rewrite expects."""
    program = _jsii_file("lib__program.js")
    if program.count(_CHANNEL) != 1:
        return None
    return {
        "host.js": _HOST.read_bytes(),
        "program.js": program.replace(_CHANNEL, _STDIO),
        # The kernel starts it from its own folder to index a package it has not seen.
        "runtime-index-worker.js": _jsii_file("lib__runtime-index-worker.js"),
        "node": _WRAPPER,
    }


def prepare() -> Path | None:
    """The host folder, written if missing; None if jsii's bundle cannot be rewritten."""
    files = host_files()
    if files is None:
        return None
    digest = hashlib.sha256(_FORMAT.encode())
    for name, content in sorted(files.items()):
        digest.update(b"\0%s\0%d\0" % (name.encode(), len(content)) + content)
    folder = Path(sys.prefix) / "share" / "sophia-infra" / f"jsii-host-{digest.hexdigest()[:16]}"
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Several processes may write it at once: each fills its own folder, one rename wins.
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".jsii-host-"))
    try:
        for name, content in files.items():
            (staging / name).write_bytes(content)
        (staging / "node").chmod(0o755)
        staging.rename(folder)
    except OSError:
        if not folder.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def install() -> bool:
    """Make the jsii kernel this process (and its children) start run in one Node process.

    Call before the first use of cdktf or constructs (the kernel starts then); returns
    whether the host is in use."""
    if "JSII_RUNTIME" in os.environ or "JSII_NODE" in os.environ:  # the user's, or inherited from us
        return Path(os.environ.get("JSII_RUNTIME", "")).parent.name.startswith("jsii-host-")
    try:
        folder = prepare()
    except OSError:  # a read-only virtual environment: jsii's relay, as before
        return False
    if folder is None:
        return False
    os.environ["JSII_RUNTIME"] = str(folder / "host.js")
    os.environ["JSII_NODE"] = str(folder / "node")
    return True

#!/usr/bin/env python
"""The app in plain Node, for the benchmark: record the jsii traffic of a synthesis, set
up the JavaScript packages, and check that ``bench/replay.js`` writes the same files.

    python -O bench/replay.py record <trace> <outdir>   # synthesize, recording the traffic
    python bench/replay.py modules <trace> <folder>     # <folder>/node_modules for the replay
    NODE_PATH=<folder>/node_modules node bench/replay.js <trace> <outdir>

``record`` runs the synthesis of ``main.py`` in this process and writes every line Python
sent to the jsii kernel (``out``) and every line it read back (``in``). ``modules``
unpacks constructs and cdktf from the tarballs the Python packages ship, and of each
provider package only ``package.json`` and the submodules the trace uses (a TypeScript
app imports ``@cdktf/provider-aws/lib/vpc``, not the index of ~2,100 submodules).
"""

from __future__ import annotations

import gc
import importlib.util
import re
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {  # jsii assembly -> the Python package that ships its tarball
    "constructs": "constructs",
    "cdktf": "cdktf",
    "@cdktf/provider-aws": "cdktf_cdktf_provider_aws",
    "@cdktf/provider-kubernetes": "cdktf_cdktf_provider_kubernetes",
}


def record(trace: Path, outdir: Path) -> None:
    gc.disable()  # as main.py
    sys.path.insert(0, str(ROOT))
    from jsii._kernel.providers import process

    lines: list[bytes] = []

    class Recording:
        def __init__(self, pipe, direction: bytes):  # noqa: ANN001 - a pipe of the kernel process
            self._pipe, self._direction = pipe, direction

        def write(self, data: bytes) -> int:
            lines.append(self._direction + data.rstrip(b"\n"))
            return self._pipe.write(data)

        def readline(self) -> bytes:
            line = self._pipe.readline()
            lines.append(self._direction + line.rstrip(b"\n"))
            return line

        def __getattr__(self, name: str):  # noqa: ANN204 - flush, close, closed
            return getattr(self._pipe, name)

    start = process._NodeProcess.start

    def recording_start(self) -> None:  # noqa: ANN001
        start(self)  # the handshake is not part of the app
        self._process.stdin = Recording(self._process.stdin, b"out ")
        self._process.stdout = Recording(self._process.stdout, b"in ")

    process._NodeProcess.start = recording_start
    from sophia_infra import synth

    synth.synthesize(outdir)
    trace.write_bytes(b"\n".join(lines) + b"\n")


_FQN = re.compile(r'"(@cdktf/provider-[a-z]+)\.([A-Za-z0-9]+)\.')


def modules(trace: Path, folder: Path) -> None:
    used: dict[str, set[str]] = {}
    for assembly, namespace in _FQN.findall(trace.read_text()):
        used.setdefault(assembly, set()).add(re.sub(r"[A-Z]", lambda m: "-" + m.group(0).lower(), namespace))
    for assembly, package in PACKAGES.items():
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.origin is not None, package
        (tarball,) = (Path(spec.origin).parent / "_jsii").glob("*.jsii.tgz")
        target = folder / "node_modules" / assembly
        wanted = used.get(assembly)
        with tarfile.open(tarball) as archive:
            for member in archive:
                name = member.name.removeprefix("package/")
                if wanted is not None and name != "package.json" and name.split("/")[1:2] not in ([s] for s in wanted):
                    continue
                if member.isfile() and not name.endswith(".d.ts"):
                    path = target / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(archive.extractfile(member).read())  # type: ignore[union-attr]


def main() -> None:
    command, trace, target = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if command == "record":
        record(trace, target)
    elif command == "modules":
        modules(trace, target)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

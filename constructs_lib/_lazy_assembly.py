"""Load a provider's jsii assembly into Node without requiring all its submodules.

When jsii loads ``@cdktf/provider-aws`` it ``require``s the package's
``lib/index.js``, which is ~2135 lines of ``exports.vpc = require("./vpc");``:
Node compiles every resource module (~3.9 s here) although an app uses a few
dozen. The kernel finds a type by walking the package's exports
(``closure["vpc"]["Vpc"]``) and, for assemblies compiled by jsii >= 1.19, reads
runtime type information from the classes themselves, so it never needs the
exports eagerly.

We therefore hand the kernel a copy of the package tarball whose ``index.js``
defines each export as a getter that requires the submodule on first access,
before the bindings' own ``_jsii`` module loads the original tarball (the kernel
then sees the package already loaded under the same version and returns). The
copy is built once per virtual environment, next to ``sys.prefix``.

The rewrite is refused (and the original tarball used) unless every line of
``index.js`` is one of the shapes below, so an unexpected future layout degrades
to the slow path, never to a broken one. tests/app/test_providers.py checks the
output against the eager import byte for byte.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import sys
import tarfile
import tempfile
from pathlib import Path

from jsii._runtime import kernel

from constructs_lib.provider_packages import ASSEMBLIES

# Bump when the rewrite changes, so stale copies are not reused.
_FORMAT = "2"
_INDEX = "package/lib/index.js"
_REQUIRE = re.compile(r'^exports\.([A-Za-z_$][A-Za-z0-9_$]*) = require\("(\./[a-z0-9-]+)"\);$')
_PREDECLARE = re.compile(r"^exports\.[A-Za-z0-9_$]+( = exports\.[A-Za-z0-9_$]+)* = void 0;$")
_HEADER = {'"use strict";', 'Object.defineProperty(exports, "__esModule", { value: true });', ""}


def lazy_index(source: str) -> str | None:
    """``index.js`` with each submodule export turned into a lazy getter, or None if
    the file has any line this rewrite does not understand."""
    out = []
    rewritten = 0
    for line in source.split("\n"):
        match = _REQUIRE.match(line)
        if match:
            name, path = match.groups()
            out.append(
                f'Object.defineProperty(exports, "{name}", '
                f'{{ enumerable: true, configurable: true, get: () => require("{path}") }});'
            )
            rewritten += 1
        elif line in _HEADER or _PREDECLARE.match(line) or line.startswith(("/*", " *", "//")):
            out.append(line)
        else:
            return None
    return "\n".join(out) if rewritten else None


def _lazy_tarball(original: Path) -> Path | None:
    stat = original.stat()
    key = hashlib.sha256(f"{_FORMAT}:{original.name}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = Path(sys.prefix) / "share" / "sophia-infra" / f"{original.name.removesuffix('.jsii.tgz')}.lazy-{key}.jsii.tgz"
    if target.exists():
        return target
    with tarfile.open(original, "r:gz") as source:
        index = source.extractfile(_INDEX)
        if index is None:
            return None
        rewritten = lazy_index(index.read().decode("utf-8"))
        if rewritten is None:
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        # Several processes may build it at once: each writes its own file, one rename wins.
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            # The kernel reads and hashes the whole tarball on every load to find its cache
            # entry (~1.4 ms per MB): level 6 makes the AWS copy 33 MB instead of 50 at level 1
            # (~25 ms less per synthesis) for ~1.5 s more, once, at install.
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as copy:
                for member in source.getmembers():
                    if member.name == _INDEX:
                        data = rewritten.encode("utf-8")
                        member.size = len(data)
                        copy.addfile(member, io.BytesIO(data))
                    else:
                        copy.addfile(member, source.extractfile(member) if member.isfile() else None)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target


def _original_tarball(package_dir: Path) -> Path | None:
    """The assembly tarball shipped in the bindings' ``_jsii`` directory."""
    tarballs = list((package_dir / "_jsii").glob("*.jsii.tgz"))
    return tarballs[0] if len(tarballs) == 1 else None


def preload(package_dir: Path, assembly: str) -> bool:
    """Load ``assembly`` (whose tarball is in ``package_dir/_jsii``) with a lazy index.

    Returns False, changing nothing, when the tarball cannot be rewritten."""
    original = _original_tarball(package_dir)
    if original is None:
        return False
    version = original.name.removesuffix(".jsii.tgz").rpartition("@")[2]
    lazy = _lazy_tarball(original)
    if lazy is None:
        return False
    kernel.load(assembly, version, str(lazy))
    return True


def prepare() -> None:
    """Build the lazy copies of both provider tarballs (``make`` runs this after installing)."""
    import importlib.util

    for package in ASSEMBLIES:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.origin is not None, package
        original = _original_tarball(Path(spec.origin).parent)
        built = _lazy_tarball(original) if original is not None else None
        print(f"{package}: {built or 'index.js not rewritable, the original tarball will be used'}")
        if built is not None:  # copies of an older format or release: nothing reads them any more
            for stale in built.parent.glob(f"{original.name.removesuffix('.jsii.tgz')}.lazy-*.jsii.tgz"):
                if stale != built:
                    stale.unlink()


if __name__ == "__main__":
    prepare()

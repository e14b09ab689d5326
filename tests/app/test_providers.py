"""The lazy provider loader: only used submodules are imported, and jsii can still
build Python objects for types whose submodule Python has not imported."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_only_used_submodules_are_imported():
    out = _run(
        "import sys\n"
        "from constructs_lib.providers import aws\n"
        "aws.vpc.Vpc\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('cdktf_cdktf_provider_aws.'))\n"
        "print(','.join(loaded))\n"
    )
    loaded = out.strip().split(",")
    assert "cdktf_cdktf_provider_aws.vpc" in loaded
    assert "cdktf_cdktf_provider_aws.s3_bucket" not in loaded
    assert len(loaded) < 10, loaded


def test_jsii_resolves_a_construct_whose_submodule_python_has_not_imported():
    # Build a VPC, then make Python forget the vpc module, its registered class and
    # the object itself: node.find_child() and an Aspect then receive a reference of
    # type @cdktf/provider-aws.vpc.Vpc that only the submodule map can resolve.
    out = _run(
        """
import sys, jsii
from jsii import _reference_map
from cdktf import App, Aspects, IAspect, TerraformStack
from constructs_lib.providers import aws

app = App(outdir="/tmp/unused")
stack = TerraformStack(app, "s")
aws.provider.AwsProvider(stack, "aws", region="us-east-1")
vpc = aws.vpc.Vpc(stack, "vpc", cidr_block="10.0.0.0/16")
ref = vpc.__jsii_ref__.ref
del vpc
_reference_map._refs._refs.pop(ref)
for fqn in [k for k in _reference_map._types if k.startswith("@cdktf/provider-aws.vpc.")]:
    del _reference_map._types[fqn]
for name in [m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.vpc")]:
    del sys.modules[name]

found = stack.node.find_child("vpc")
print(type(found).__module__, type(found).__name__)
seen = []

@jsii.implements(IAspect)
class Visit:
    def visit(self, node):
        seen.append(type(node).__name__)

Aspects.of(stack).add(Visit())
app.synth()
print(",".join(sorted(seen)))
"""
    )
    first, second = out.strip().splitlines()
    assert first == "cdktf_cdktf_provider_aws.vpc Vpc"
    assert "Vpc" in second.split(",")


def _assembly_submodules(package: str) -> set[str]:
    spec_dir = Path(__import__("importlib").util.find_spec(package).submodule_search_locations[0]) / "_jsii"
    (tgz,) = spec_dir.glob("*.jsii.tgz")
    # Stream the tarball: .jsii is its first member, and its "submodules" come before the
    # ~120 MB of "types", so only the first MB or so is decompressed and parsed.
    with tarfile.open(tgz, "r|gz") as archive:
        for member in archive:
            if member.name == "package/.jsii":
                stream = archive.extractfile(member)
                assert stream is not None
                return set(_top_level_value(stream, "submodules"))
    raise AssertionError(f"{tgz} has no package/.jsii")


class _NeedMore(Exception):
    pass


def _top_level_value(stream, key: str):
    """The value of ``key`` in the JSON object read from ``stream``, reading no further than it."""
    text_decoder = codecs.getincrementaldecoder("utf-8")()
    text = ""
    while True:
        chunk = stream.read(1 << 20)
        text += text_decoder.decode(chunk, final=not chunk)
        try:
            return _find_key(text, key)
        except _NeedMore:
            if not chunk:
                raise AssertionError(f"no top-level {key!r}") from None


def _find_key(text: str, key: str):
    decoder = json.JSONDecoder()

    def value_at(index: int):
        try:
            return decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            raise _NeedMore from None

    def after(index: int, separator: str) -> int:
        index = len(text) - len(text[index:].lstrip())
        if index == len(text):
            raise _NeedMore
        assert text[index] == separator, text[index : index + 40]
        return len(text) - len(text[index + 1 :].lstrip())

    index = after(0, "{")
    while True:
        name, index = value_at(index)
        value, index = value_at(after(index, ":"))
        if name == key:
            return value
        index = after(index, ",")


@pytest.mark.parametrize(
    ("package", "assembly"),
    [
        ("cdktf_cdktf_provider_aws", "@cdktf/provider-aws"),
        ("cdktf_cdktf_provider_kubernetes", "@cdktf/provider-kubernetes"),
    ],
)
def test_submodule_map_matches_the_assembly(package, assembly):
    from constructs_lib.providers import submodule_fqn

    init = Path(__import__("importlib").util.find_spec(package).origin).read_text()
    python_names = [line.split()[-1] for line in init.splitlines() if line.startswith("from . import ")]
    assert python_names
    assert {submodule_fqn(assembly, name) for name in python_names} == _assembly_submodules(package)


def test_lazy_index_turns_each_submodule_export_into_a_getter():
    from constructs_lib._lazy_assembly import lazy_index

    source = "\n".join(
        [
            '"use strict";',
            'Object.defineProperty(exports, "__esModule", { value: true });',
            "exports.vpc = exports.s3Bucket = void 0;",
            'exports.s3Bucket = require("./s3-bucket");',
            'exports.vpc = require("./vpc");',
            "// generated by cdktf get",
        ]
    )
    rewritten = lazy_index(source)
    assert rewritten is not None
    assert 'require("./s3-bucket")' in rewritten and "exports.s3Bucket = require" not in rewritten
    assert 'Object.defineProperty(exports, "vpc", { enumerable: true, configurable: true, get: () => require("./vpc") });' in rewritten


def test_lazy_index_refuses_a_layout_it_does_not_understand():
    from constructs_lib._lazy_assembly import lazy_index

    assert lazy_index('exports.vpc = require("./vpc");\n__exportStar(require("./provider"), exports);') is None
    assert lazy_index('"use strict";\n') is None  # nothing to make lazy



POSTPONED = """
import typing
from constructs_lib.providers import aws
import cdktf_cdktf_provider_aws.s3_bucket as direct  # a plain import, not through aws.<name>
stub = aws.vpc.Vpc.__init__
print(type(stub.__annotations__["cidr_block"]).__name__, type(direct.S3Bucket.__init__.__annotations__["bucket"]).__name__)
print(typing.get_type_hints(stub)["cidr_block"] == typing.Optional[str])
"""


def test_under_O_submodules_are_compiled_with_postponed_annotations_however_imported():
    result = subprocess.run([sys.executable, "-O", "-c", POSTPONED], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["str", "str", "True"]


def test_with_type_checks_the_annotations_stay_evaluated():
    # The bindings call typing.get_type_hints on every call when checks are on.
    assert _run(POSTPONED).split() == ["_UnionGenericAlias", "_UnionGenericAlias", "True"]


def test_postponed_bytecode_is_cached_per_level_and_recompiled_when_the_source_changes(tmp_path):
    from constructs_lib.providers import _postponed_code

    source = tmp_path / "generated.py"
    source.write_text("def f(x: undefined_name) -> int:\n    return 1\n")
    code = _postponed_code(str(source), 0)
    namespace: dict = {}
    exec(code, namespace)  # the annotation is never evaluated: no NameError
    assert namespace["f"].__annotations__ == {"x": "undefined_name", "return": "int"}
    cached = tmp_path / "__pycache__" / f"generated.{sys.implementation.cache_tag}.opt-0pep563.pyc"
    assert cached.is_file()
    assert not (tmp_path / "__pycache__" / f"generated.{sys.implementation.cache_tag}.pyc").exists()

    source.write_text("def f(x: other_name) -> str:\n    return 2\n")
    stat = source.stat()
    os.utime(source, (stat.st_atime, stat.st_mtime + 2))
    namespace = {}
    exec(_postponed_code(str(source), 0), namespace)
    assert namespace["f"].__annotations__ == {"x": "other_name", "return": "str"}

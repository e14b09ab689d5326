"""Readable in one screen: no function over 80 lines, no module over 400, in the library, the
configuration model, the stacks and the commands.

A module whose first line is ``# size: <reason>`` is exempt from both limits: the reason is
read in review. Function length counts from ``def`` to the last line of the body, docstring
and comments included, decorators not; a nested function counts on its own and inside its
parent. Every module is parsed, not imported, so the test takes milliseconds.

No package has an exemption list: the offenders listed when the limit came in (four stack
constructors) were split, and the list went with them.
"""

from __future__ import annotations

import ast

import pytest

from tests.app.test_layers import LAYERS
from tests.conftest import ROOT

MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 400
REASON_PREFIX = "# size:"
PACKAGES = ("constructs_lib", "sophia_config", "stacks", "sophia_infra")


def size_problems(path: str, source: str) -> dict[str, str]:
    """``{key: description}`` of what in ``source`` is over a limit; keys are ``path`` for the
    module and ``path::Qualified.name`` for a function. Empty when the first line gives a reason."""
    lines = source.splitlines()
    if lines and lines[0].startswith(REASON_PREFIX) and lines[0][len(REASON_PREFIX) :].strip():
        return {}
    problems = {}
    if len(lines) > MAX_MODULE_LINES:
        problems[path] = f"{path}: {len(lines)} lines (limit {MAX_MODULE_LINES}; split it by concept or give a '{REASON_PREFIX} <reason>' first line)"

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                length = child.end_lineno - child.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    problems[f"{path}::{name}"] = f"{path}:{child.lineno} {name}: {length} lines (limit {MAX_FUNCTION_LINES})"
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return problems


def package_problems(package: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        found.update(size_problems(path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_functions_and_modules_fit_in_the_limits(package):
    found = package_problems(package)
    assert not found, "over the size limits:\n" + "\n".join(description for _, description in sorted(found.items()))


def test_every_layer_is_measured():
    # A package added to the layers (tests/app/test_layers.py) is measured too.
    assert set(PACKAGES) == {package for package in LAYERS if package != "main"}
    assert all((ROOT / package / "__init__.py").is_file() for package in PACKAGES)


# --- negative controls: the measure sees what it must refuse --------------------------------


def function(name: str, body_lines: int, indent: str = "") -> str:
    body = "".join(f"{indent}    x = {i}\n" for i in range(body_lines))
    return f"{indent}def {name}():\n{body}"


def test_a_function_one_line_over_the_limit_is_reported_with_its_qualified_name():
    source = "class Thing:\n" + function("short", MAX_FUNCTION_LINES - 1, "    ") + function("long", MAX_FUNCTION_LINES, "    ")
    assert size_problems("lib/thing.py", source) == {
        "lib/thing.py::Thing.long": f"lib/thing.py:{MAX_FUNCTION_LINES + 2} Thing.long: {MAX_FUNCTION_LINES + 1} lines (limit {MAX_FUNCTION_LINES})"
    }


def test_a_nested_function_counts_on_its_own():
    inner = function("inner", MAX_FUNCTION_LINES, "    ")
    source = "def outer():\n" + inner + "".join("    y = 1\n" for _ in range(3))
    assert set(size_problems("m.py", source)) == {"m.py::outer", "m.py::outer.inner"}


def test_a_long_module_needs_a_reason_on_its_first_line():
    body = "x = 1\n" * MAX_MODULE_LINES
    assert size_problems("m.py", body) == {}
    assert set(size_problems("m.py", body + "y = 2\n")) == {"m.py"}
    assert size_problems("m.py", "# size: a generated table, one row per instance type\n" + body) == {}
    assert set(size_problems("m.py", "# size:\n" + body)) == {"m.py"}, "an empty reason is no reason"
    assert set(size_problems("m.py", '"""Doc."""\n# size: too late, not the first line\n' + body)) == {"m.py"}

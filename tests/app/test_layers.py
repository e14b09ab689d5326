"""Layers point one way: ``constructs_lib`` <- ``sophia_config`` <- ``stacks`` <- commands.

Every module of the four packages and ``main.py`` is parsed (not imported), and
every ``import`` in it counts, function-local and ``TYPE_CHECKING`` ones included:
a lazy import is still a dependency. The test fails on an import of a higher layer,
on an import cycle between modules, and on a library module importing a
third-party package other than cdktf, constructs, jsii and the provider bindings.

And the configuration loads without the jsii runtime: in a fresh process, loading it
(and a synthesis that stops at a configuration error, and the deploy and review
commands, which synthesize only in a subprocess) imports no jsii, cdktf, constructs or
provider binding; importing cdktf starts Node.js (constructs_lib/__init__.py).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.config.test_model import edit
from tests.conftest import ROOT

LAYERS = {"constructs_lib": 0, "sophia_config": 1, "stacks": 2, "sophia_infra": 3, "main": 3}
LAYER_NAMES = ("library", "configuration model", "stacks", "commands")
LIBRARY_THIRD_PARTY = {"cdktf", "constructs", "jsii", "cdktf_cdktf_provider_aws", "cdktf_cdktf_provider_kubernetes"}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_sources(root: Path) -> dict[str, tuple[Path, str]]:
    """Module name -> (path, source) for every module of the layered packages and main.py."""
    paths = [root / "main.py"] + [p for package in LAYERS if package != "main" for p in sorted((root / package).rglob("*.py"))]
    return {module_name(p, root): (p, p.read_text(encoding="utf-8")) for p in paths if p.is_file()}


def imports_of(module: str, source: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, imported module or ``module.name``) for every import statement in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # ``from pkg import name``: the module ``pkg.name`` if there is one, else ``pkg``.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def resolve(target: str, modules: set[str]) -> str | None:
    """The project module ``target`` names (``pkg.mod.attr`` -> ``pkg.mod``), or None if not ours."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def graph_of(sources: Mapping[str, str], packages: set[str]) -> dict[str, dict[str, int]]:
    """module -> {imported project module: line}; ``packages`` names the modules that are ``__init__``."""
    modules = set(sources)
    graph: dict[str, dict[str, int]] = {}
    for module, source in sources.items():
        edges: dict[str, int] = {}
        for line, target in imports_of(module, source, module in packages):
            dep = resolve(target, modules)
            if dep is not None and dep != module:
                edges.setdefault(dep, line)
        graph[module] = edges
    return graph


def upward_imports(graph: Mapping[str, Mapping[str, int]]) -> list[str]:
    return [
        f"{module}:{line} imports {dep} ({LAYER_NAMES[layer(dep)]}, above {LAYER_NAMES[layer(module)]})"
        for module, edges in sorted(graph.items())
        for dep, line in sorted(edges.items())
        if layer(dep) > layer(module)
    ]


def cycles(graph: Mapping[str, Mapping[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in graph.get(node, {}):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def foreign_library_imports(sources: Mapping[str, str], packages: set[str]) -> list[str]:
    """Library modules importing a third-party package outside :data:`LIBRARY_THIRD_PARTY`."""
    modules = set(sources)
    problems = []
    for module, source in sorted(sources.items()):
        if layer(module) != 0:
            continue
        for line, target in imports_of(module, source, module in packages):
            top = target.split(".")[0]
            if resolve(target, modules) is None and top not in LAYERS and top not in sys.stdlib_module_names:
                if top not in LIBRARY_THIRD_PARTY and top != "__future__":
                    problems.append(f"{module}:{line} imports {top}")
    return problems


def check(sources: Mapping[str, str], packages: set[str]) -> list[str]:
    graph = graph_of(sources, packages)
    problems = upward_imports(graph)
    problems += [f"import cycle: {' <-> '.join(c)}" for c in cycles(graph)]
    problems += foreign_library_imports(sources, packages)
    return problems


def test_layers_point_one_way_without_cycles():
    found = project_sources(ROOT)
    assert {m.split(".")[0] for m in found} == set(LAYERS), "every layer has modules"
    packages = {m for m, (path, _) in found.items() if path.name == "__init__.py"}
    problems = check({m: source for m, (_, source) in found.items()}, packages)
    assert not problems, "\n".join(problems)


# --- the configuration loads without the jsii runtime ----------------------------------------

JSII_PACKAGES = ("jsii", "cdktf", "constructs", "cdktf_cdktf_provider_aws", "cdktf_cdktf_provider_kubernetes")

# Runs sys.argv[3] in a fresh interpreter, then prints {package: [project modules on the stack
# when it was first imported, innermost first]} for the packages named in sys.argv[1].
WATCH = """
import json, sys
watched, layers, code = sys.argv[1].split(","), sys.argv[2].split(","), sys.argv[3]
found = {}

class Watch:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in watched and top not in found:
            frame, chain = sys._getframe(1), []
            while frame is not None:
                module = frame.f_globals.get("__name__", "")
                if module.partition(".")[0] in layers and module not in chain:
                    chain.append(module)
                frame = frame.f_back
            found[top] = chain
        return None  # the ordinary finders import it

sys.meta_path.insert(0, Watch())
try:
    exec(compile(code, "<case>", "exec"))
finally:
    print(json.dumps(found))
"""


def jsii_imports(code: str, **env: str) -> dict[str, list[str]]:
    """What ``code`` imports of :data:`JSII_PACKAGES` in a fresh process, and through which modules."""
    command = [sys.executable, "-c", WATCH, ",".join(JSII_PACKAGES), ",".join(LAYERS), code]
    # As from a user's shell: without the variables this session's jsii_host.install() set
    # (with them, install() returns before it imports jsii).
    inherited = {k: v for k, v in os.environ.items() if k not in ("JSII_RUNTIME", "JSII_NODE")}
    done = subprocess.run(
        command, cwd=ROOT, env={**inherited, **env}, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and done.stdout.strip(), done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def described(found: Mapping[str, list[str]]) -> str:
    return "\n".join(f"{package} imported by {' <- '.join(chain) or '?'}" for package, chain in found.items())


def test_loading_the_configuration_starts_no_jsii_runtime():
    found = jsii_imports(f"import sophia_config\nsophia_config.load({str(ROOT / 'config')!r})")
    assert found == {}, described(found)


def test_a_configuration_error_is_reported_before_the_jsii_runtime_starts(tmp_path):
    # main.py's path, as a user meets it: a mistyped key in dev.yaml.
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    edit(config, "dev.yaml", lambda d: d["network"].__setitem__("nat_stratgy", d["network"].pop("nat_strategy")))
    code = "from sophia_infra.synth import main\nassert main([]) == 1"
    found = jsii_imports(code, CDKTF_OUTDIR=str(tmp_path / "out"), SOPHIA_CONFIG_DIR=str(config))
    assert found == {}, described(found)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "code",
    [
        "from sophia_infra import deploy\nassert deploy.main(['devv', '--dry-run']) == 2",
        "import sophia_infra.review.cli",
    ],
    ids=["deploy", "review"],
)
def test_commands_that_synthesize_in_a_subprocess_start_no_jsii_runtime(code):
    found = jsii_imports(code)
    assert found == {}, described(found)


# --- negative controls: the checker sees what it must refuse --------------------------------


def test_a_function_local_upward_import_is_detected():
    sources = {
        "constructs_lib.thing": "def build():\n    from stacks.base import EnvironmentStack\n",
        "stacks.base": "import constructs_lib.thing\n",
        "sophia_config.model": "from stacks import base\n",
        "main": "from sophia_infra.synth import main\n",
        "sophia_infra.synth": "import sophia_config.model\n",
    }
    problems = check(sources, set())
    assert "constructs_lib.thing:2 imports stacks.base (stacks, above library)" in problems
    assert "sophia_config.model:1 imports stacks.base (stacks, above configuration model)" in problems
    assert len([p for p in problems if "above" in p]) == 2


def test_a_cycle_inside_a_layer_is_detected():
    sources = {
        "constructs_lib.providers": "def load():\n    from constructs_lib._lazy_assembly import preload\n",
        "constructs_lib._lazy_assembly": "def prepare():\n    from constructs_lib.providers import TABLE\n",
        "constructs_lib.naming": "import re\n",
    }
    assert check(sources, set()) == ["import cycle: constructs_lib._lazy_assembly <-> constructs_lib.providers"]


def test_relative_imports_and_foreign_packages_in_the_library_are_detected():
    sources = {
        "constructs_lib": "",
        "constructs_lib.a": "from . import b\nimport yaml\n",
        "constructs_lib.b": "from .a import x\n",
    }
    problems = check(sources, {"constructs_lib"})
    assert "import cycle: constructs_lib.a <-> constructs_lib.b" in problems
    assert "constructs_lib.a:2 imports yaml" in problems


def test_the_watch_names_the_modules_that_imported_a_jsii_package():
    found = jsii_imports("import sophia_infra.jsii_host as host\nhost.host_files()")
    assert found == {"jsii": ["sophia_infra.jsii_host"]}
    assert described(found) == "jsii imported by sophia_infra.jsii_host"

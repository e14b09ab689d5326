"""docs/operations.md: every project command in it is one the project supports.

Commands are taken from code blocks (a line, with its ``\\`` continuations) and inline code
spans: ``make <target> [VAR=value]``, ``python -m <module> [--flags]`` (also
``.venv/bin/python -m``) and ``cdktf``/``npx cdktf <subcommand>``. A make target must be
in the Makefile and each ``VAR=`` one it reads; a module must exist in the repository and
declare each ``--flag`` with ``add_argument``; a cdktf subcommand must be one of the CLI's.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import ROOT

RUNBOOK = ROOT / "docs" / "operations.md"
# `cdktf --help` of cdktf-cli 0.21.0 (the CLI the project pins, docs/deployment.md).
CDKTF_SUBCOMMANDS = frozenset(
    {"init", "get", "convert", "deploy", "destroy", "diff", "list", "login", "synth", "watch", "output", "debug", "provider", "force-unlock"}
)
_PYTHON = re.compile(r"^(?:\.venv/bin/)?python3? -m ")
_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=\S*$")


def commands(text: str) -> list[str]:
    """The project commands in a Markdown text, in order."""
    found: list[str] = []
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)
    for block in blocks:
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            found.append(line.strip().removeprefix("$ ").strip())
    prose = re.sub(r"```[^\n]*\n.*?```", "", text, flags=re.S)
    found += [span.strip() for span in re.findall(r"`([^`\n]+)`", prose)]
    project = []
    for candidate in found:
        words = candidate.split()
        while words and _ASSIGNMENT.match(words[0]):  # VAR=value before the command
            words = words[1:]
        command = " ".join(words)
        if command.startswith(("make ", "npx cdktf ", "cdktf ")) or _PYTHON.match(command):
            project.append(command)
    return project


def makefile() -> tuple[set[str], set[str]]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z][A-Za-z0-9_-]*):(?!=)", text, flags=re.M))
    variables = set(re.findall(r"\$\(([A-Z_]+)\)", text))
    return targets, variables


def module_flags(module: str) -> set[str] | None:
    """The ``--flags`` a module (or package) declares, or None when it does not exist."""
    path = ROOT / Path(*module.split("."))
    if path.with_suffix(".py").is_file():
        files = [path.with_suffix(".py")]
    elif (path / "__main__.py").is_file():
        files = sorted(path.glob("*.py"))
    else:
        return None
    flags: set[str] = set()
    for file in files:
        flags |= set(re.findall(r"add_argument\([^)]*?[\"'](--[a-z0-9-]+)[\"']", file.read_text(encoding="utf-8"), flags=re.S))
    return flags


def problem(command: str) -> str | None:
    """Why ``command`` is not one the project supports, or None."""
    try:
        words = shlex.split(command.replace("<", "").replace(">", ""))
    except ValueError as exc:
        return f"cannot be parsed: {exc}"
    if words[0] == "make":
        targets, variables = makefile()
        names = [w for w in words[1:] if not _ASSIGNMENT.match(w)]
        assignments = [w.split("=", 1)[0] for w in words[1:] if _ASSIGNMENT.match(w)]
        if not names or any(n not in targets for n in names):
            return f"no such make target in {names} (Makefile has {sorted(targets)})"
        if unread := [a for a in assignments if a not in variables]:
            return f"the Makefile reads no variable {unread}"
        return None
    if words[0] in ("npx", "cdktf"):
        subcommand = words[2] if words[0] == "npx" else words[1]
        return None if subcommand in CDKTF_SUBCOMMANDS else f"cdktf has no subcommand {subcommand!r}"
    module = words[2]
    flags = module_flags(module)
    if flags is None:
        return f"no module {module} in the repository"
    unknown = sorted({w.split("=")[0] for w in words[3:] if w.startswith("--")} - flags)
    return f"{module} declares no {unknown}" if unknown else None


def test_the_runbook_has_commands_to_check():
    found = commands(RUNBOOK.read_text(encoding="utf-8"))
    kinds = {c.split()[0] if not _PYTHON.match(c) else "python" for c in found}
    assert {"make", "python", "cdktf"} <= kinds, kinds


@pytest.mark.parametrize("command", sorted(set(commands(RUNBOOK.read_text(encoding="utf-8")))))
def test_every_command_of_the_runbook_is_supported(command):
    assert problem(command) is None, f"docs/operations.md: `{command}`: {problem(command)}"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("make deploy", "no such make target"),
        ("make review BASE=origin/main ENV=prod", "reads no variable ['ENV']"),
        ("python -m sophia_infra.deploy production --yolo", "declares no ['--yolo']"),
        ("python -m sophia_infra.redeploy dev", "no module sophia_infra.redeploy"),
        ("npx cdktf apply", "no subcommand 'apply'"),
    ],
)
def test_the_checker_refuses_what_the_project_does_not_have(command, message):
    assert message in (problem(command) or "")


def test_commands_are_found_in_blocks_spans_and_continuations():
    text = "Run `make review BASE=x` then:\n\n```\n$ TF_LOG=DEBUG python -m sophia_infra.deploy dev \\\n  --dry-run\n```\n"
    assert commands(text) == ["python -m sophia_infra.deploy dev --dry-run", "make review BASE=x"]

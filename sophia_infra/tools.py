"""The command-line tools the commands run, found in one place, with how to get each.

A missing tool is one line naming it and how to install it (:class:`MissingTool`), never
a ``FileNotFoundError`` traceback. :func:`cdktf_command` is the one lookup of the cdktf
CLI: ``$CDKTF_CLI``, else the CLI pinned in ``package-lock.json`` (``node_modules/.bin/cdktf``,
installed by make), else ``cdktf`` on PATH.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

HOW_TO_GET = {
    "node": "install Node.js 20 or later (https://nodejs.org/); jsii runs the cdktf libraries on it",
    "npx": "it comes with Node.js 20 or later (https://nodejs.org/)",
    "cdktf": "run make synth in the repository (it installs the pinned cdktf-cli 0.21.0 into node_modules/), "
    "or point CDKTF_CLI at another cdktf command",
    "terraform": "install Terraform 1.11 (https://developer.hashicorp.com/terraform/install)",
    "git": "install git (https://git-scm.com/downloads)",
    "moto_server": "make local-up and make e2e install it into .venv-e2e (tools/e2e-requirements.lock); "
    "SOPHIA_MOTO_SERVER names another one",
}
# A cdktf CLI is a Node.js script: without node it fails with "env: node: not found".
NEEDS_NODE = frozenset({"cdktf", "npx", "npm"})
# The CLI pinned in package-lock.json; make's install step runs `npm ci`.
PINNED_CDKTF = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "cdktf"


class MissingTool(Exception):
    """A tool is not on PATH (or not at the path given); ``str()`` names it and how to get it."""

    def __init__(self, tool: str):
        self.tool = tool
        hint = HOW_TO_GET.get(Path(tool).name, "install it or put it on PATH")
        where = "not found" if os.sep in tool else "not found on PATH"
        super().__init__(f"{tool} {where}: {hint}")


def cdktf_command() -> list[str]:
    """The cdktf CLI as a command line: ``$CDKTF_CLI`` (e.g. ``npx cdktf``), else the pinned
    CLI by its absolute path (``npx`` run outside the repository would fetch the latest
    release instead), else ``cdktf`` on PATH."""
    if "CDKTF_CLI" in os.environ:
        return shlex.split(os.environ["CDKTF_CLI"])
    return [str(PINNED_CDKTF)] if PINNED_CDKTF.is_file() else ["cdktf"]


def missing(command: list[str]) -> MissingTool | None:
    """Why ``command`` cannot start here (its program, or the node it runs on), else None."""
    if not command:
        return MissingTool("(empty command)")
    program = command[0]
    if shutil.which(program) is None:
        return MissingTool(program)
    if Path(program).name in NEEDS_NODE and shutil.which("node") is None:
        return MissingTool("node")
    return None


def require(*programs: str) -> None:
    """Raise :class:`MissingTool` for the first of ``programs`` that is not available."""
    for program in programs:
        problem = missing([program])
        if problem:
            raise problem

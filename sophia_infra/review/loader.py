"""Reading a synthesized ``cdktf.out/``: its stacks, their dependencies (``manifest.json``)
and their Terraform JSON. ``deploy`` reads outputs through this module too."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Stack:
    name: str
    dependencies: tuple[str, ...]
    doc: dict[str, Any]

    def blocks(self) -> dict[str, dict[str, Any]]:
        """Every resource and data source by address (``type.name`` / ``data.type.name``)."""
        found: dict[str, dict[str, Any]] = {}
        for rtype, items in (self.doc.get("resource") or {}).items():
            for name, body in items.items():
                found[f"{rtype}.{name}"] = body
        for rtype, items in (self.doc.get("data") or {}).items():
            for name, body in items.items():
                found[f"data.{rtype}.{name}"] = body
        return found

    def imports(self) -> dict[str, str]:
        """Terraform ``import`` blocks: address -> cloud id."""
        return {item["to"]: str(item["id"]) for item in self.doc.get("import") or []}


@dataclass(frozen=True)
class Synth:
    root: Path
    stacks: dict[str, Stack]


class ReviewError(Exception):
    """The inputs cannot be reviewed; ``str()`` is the message."""


def load(root: Path | str) -> Synth:
    root = Path(root)
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise ReviewError(f"{root}: no manifest.json (is this a synthesized cdktf.out directory?)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    stacks = {}
    for name, entry in manifest.get("stacks", {}).items():
        doc = json.loads((root / entry["synthesizedStackPath"]).read_text(encoding="utf-8"))
        stacks[name] = Stack(name, tuple(sorted(entry.get("dependencies") or ())), doc)
    return Synth(root, stacks)

"""The stack graph of ``manifest.json``: deploy waves and the Mermaid drawing of a review.

``deploy`` runs one ``cdktf deploy`` per wave computed here, so the review shows the
order the pipeline will follow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sophia_infra.review.loader import ReviewError
from sophia_infra.review.model import Review


def waves(graph: dict[str, tuple[str, ...]], selected: Iterable[str]) -> list[list[str]]:
    """Topological levels of ``selected`` and every stack that depends on them.

    A stack's wave is one more than the latest wave among its dependencies in
    the set; stacks in one wave do not depend on each other and can be deployed
    in parallel.
    """
    dependents: dict[str, set[str]] = {name: set() for name in graph}
    for name, deps in graph.items():
        for dep in deps:
            dependents.setdefault(dep, set()).add(name)
    affected: set[str] = set()
    todo = [s for s in selected if s in graph]
    while todo:
        name = todo.pop()
        if name not in affected:
            affected.add(name)
            todo.extend(dependents.get(name, ()))
    level: dict[str, int] = {}

    def depth(name: str, seen: tuple[str, ...] = ()) -> int:
        if name in level:
            return level[name]
        if name in seen:
            raise ReviewError(f"dependency cycle in manifest.json: {' -> '.join(seen + (name,))}")
        inner = [depth(d, seen + (name,)) + 1 for d in graph.get(name, ()) if d in affected]
        level[name] = max(inner, default=0)
        return level[name]

    for name in affected:
        depth(name)
    result: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name in sorted(affected):
        result[level[name]].append(name)
    return result


def _node_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def mermaid(review: Review) -> str:
    changed = set(review.changed_stacks)
    affected = {name for wave in review.waves for name in wave}
    lines = ["flowchart LR"]
    # Stacks sharing a name suffix (``-dev``, ``-production``) are drawn as one group.
    groups: dict[str, list[str]] = {}
    for name in sorted(set(review.graph) | set(review.removed_stacks)):
        groups.setdefault(name.rsplit("-", 1)[-1] if "-" in name else "", []).append(name)
    for suffix, names in sorted(groups.items()):
        grouped = len(names) > 1 and suffix
        if grouped:
            lines.append(f"  subgraph {_node_id('env_' + suffix)}[{suffix}]")
        for name in names:
            lines.append(f'{"    " if grouped else "  "}{_node_id(name)}["{name}"]')
        if grouped:
            lines.append("  end")
    for name in sorted(review.graph):
        for dep in review.graph[name]:
            lines.append(f"  {_node_id(dep)} --> {_node_id(name)}")
    lines += [
        "  classDef changed fill:#ffe08a,stroke:#b7791f,stroke-width:2px",
        "  classDef dependent fill:#e8f0fe,stroke:#5b7bd5,stroke-dasharray:3 3",
        "  classDef removed fill:#fdd,stroke:#c00,stroke-dasharray:5 5",
    ]
    for cls, names in (
        ("changed", sorted(changed - set(review.removed_stacks))),
        ("dependent", sorted(affected - changed)),
        ("removed", sorted(review.removed_stacks)),
    ):
        if names:
            lines.append(f"  class {','.join(_node_id(n) for n in names)} {cls}")
    return "\n".join(lines)

"""Comparing two synthesized outputs: the whole :class:`Review`."""

from __future__ import annotations

from sophia_infra.review.diff import diff_stack
from sophia_infra.review.loader import Synth
from sophia_infra.review.model import Review
from sophia_infra.review.risks import stack_risks
from sophia_infra.review.waves import waves


def compare(base: Synth, head: Synth) -> Review:
    names = sorted(set(base.stacks) | set(head.stacks))
    stacks, risks = [], []
    for name in names:
        b, h = base.stacks.get(name), head.stacks.get(name)
        review = diff_stack(name, b, h)
        stacks.append(review)
        if review.changed:
            risks += stack_risks(review, b, h)
    graph = {name: stack.dependencies for name, stack in head.stacks.items()}
    removed = sorted(set(base.stacks) - set(head.stacks))
    changed = [s.name for s in stacks if s.changed and s.name in head.stacks]
    base_graph = {name: stack.dependencies for name, stack in base.stacks.items()}
    # Removed stacks are destroyed in reverse dependency order (dependents first).
    destroy: list[list[str]] = []
    if removed:
        levels = waves({n: tuple(d for d in base_graph[n] if d in removed) for n in removed}, removed)
        destroy = [w for w in reversed(levels)]
    unique = sorted(set(risks), key=lambda r: (r.stack, r.address, r.category, r.reason))
    return Review(stacks, unique, graph, removed, waves(graph, changed), destroy)

"""State that travels with a stack: what its constructs declared about themselves.

A construct declares its tagging component (``tagging.set_component``) or a guard
exemption (``guards.exempt``, ``mark_standby``, ``allow_public_https``) while it is
built; tagging and the guards read those declarations at synthesis. They are kept
by a child construct of the stack the declaring construct belongs to, never in
module globals: two apps built in one process, even with the same construct paths,
share nothing (an unprotected database once passed the deletion-protection guard
on the exemption of another app's standby).

The holder, :class:`StackState`, is a plain ``Construct`` (it synthesizes to
nothing) and has no children, so as an Aspect of itself cdktf visits it exactly
once per synthesis of its stack: that one call from Node runs the passes
registered with :meth:`StackState.before_synthesis` (tagging's). An Aspect on
the stack would be called for every construct.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import jsii
from cdktf import Aspects, IAspect, TerraformStack
from constructs import Construct, IConstruct

T = TypeVar("T")

_ID = "stack-state"
_CACHE = "_stack_state"  # attribute of the Python stack object: saves finding the child again


@jsii.implements(IAspect)
class StackState(Construct):
    """One stack's declarations, one object per kind (``of(scope).part(GuardMarks)``)."""

    def __init__(self, stack: TerraformStack):
        super().__init__(stack, _ID)
        self.stack = stack
        self._parts: dict[type, object] = {}
        self._passes: list[Callable[[], None]] = []
        Aspects.of(self).add(self)

    def part(self, kind: type[T]) -> T:
        """The stack's ``kind`` object (``kind(stack)``), created on first use."""
        if kind not in self._parts:
            self._parts[kind] = kind(self.stack)  # type: ignore[call-arg]
        return self._parts[kind]  # type: ignore[return-value]

    def find_part(self, kind: type[T]) -> T | None:
        return self._parts.get(kind)  # type: ignore[return-value]

    def before_synthesis(self, run: Callable[[], None]) -> None:
        """Run ``run`` each time cdktf synthesizes the stack (after the tree is complete)."""
        if run not in self._passes:
            self._passes.append(run)

    def visit(self, node: IConstruct) -> None:  # IAspect: called for this childless holder only
        for run in self._passes:
            run()


def find(stack: TerraformStack) -> StackState | None:
    """``stack``'s state, or None if nothing under it declared anything."""
    cached = vars(stack).get(_CACHE)
    if cached is not None:
        return cached
    found = stack.node.try_find_child(_ID)
    if found is not None and not isinstance(found, StackState):
        raise TypeError(f"{stack.node.path}/{_ID} is a {type(found).__name__}, not the stack's state")
    if found is not None:
        vars(stack)[_CACHE] = found
    return found


def of(scope: IConstruct) -> StackState:
    """The state of the stack ``scope`` belongs to, created on first use."""
    stack = scope if isinstance(scope, TerraformStack) else TerraformStack.of(scope)
    state = find(stack)
    if state is None:
        state = vars(stack)[_CACHE] = StackState(stack)
    return state

"""State that travels with a stack: what its constructs declared about themselves.

A construct declares its tagging component (``tagging.set_component``) or a guard
exemption (``guards.exempt``, ``mark_standby``, ``allow_public_https``) while it is
built; tagging and the guards read those declarations at synthesis. They are kept
in a child construct of the stack the declaring construct belongs to, never in
module globals: two apps built in one process, even with the same construct paths,
share nothing (an unprotected database once passed the deletion-protection guard
on the exemption of another app's standby).

The holder is a plain ``Construct``: it synthesizes to nothing. It is found again
by its id, so the Python object jsii hands back is the one that was created here,
with its attributes.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from cdktf import TerraformStack
from constructs import Construct, IConstruct


class StackState(Construct):
    """Base of a per-stack holder; a subclass names its ``ID`` (unique among the stack's children)."""

    ID: ClassVar[str]

    def __init__(self, stack: TerraformStack):
        super().__init__(stack, self.ID)
        self.stack = stack


S = TypeVar("S", bound=StackState)


def find(stack: TerraformStack, kind: type[S]) -> S | None:
    """``stack``'s holder of ``kind``, or None if nothing under it declared any."""
    found = stack.node.try_find_child(kind.ID)
    if found is not None and not isinstance(found, kind):
        raise TypeError(f"{stack.node.path}/{kind.ID} is a {type(found).__name__}, not the {kind.__name__} holder")
    return found


def of(scope: IConstruct, kind: type[S]) -> S:
    """The holder of ``kind`` of the stack ``scope`` belongs to, created on first use."""
    stack = TerraformStack.of(scope)
    return find(stack, kind) or kind(stack)

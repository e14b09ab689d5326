"""Stack outputs declared once, from the construct that owns the value.

An output is a contract: other stacks, ``cdktf output``, the deploy command, the docs and
people read it by name, so a name changes only when it is wrong. Most outputs are an
attribute of one construct, under the attribute's own name (``vpc_id`` is
``network.vpc_id``) or that name behind the construct's role in the stack
(``deploy_role_arn`` is ``deploy_role.role_arn``): :func:`export` declares those from
the attribute's name, so the name is written once and the value is never copied into
the stack first.
"""

from __future__ import annotations

from stacks.base import EnvironmentStack


def export(stack: EnvironmentStack, source: object, *, prefix: str = "", **descriptions: str) -> None:
    """One documented output of ``stack`` per keyword: ``attribute="description"`` outputs
    ``source.attribute`` as ``<prefix><attribute>``."""
    for attribute, description in descriptions.items():
        stack.output(f"{prefix}{attribute}", getattr(source, attribute), description)

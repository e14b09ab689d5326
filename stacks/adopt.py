"""Adopt existing cloud resources: ``imports:`` entries -> Terraform ``import`` blocks.

Runs after every stack is built (``stacks.build_app``): each entry of an
environment's ``imports:`` names a function stack and a construct path under
it; the resource found there gets ``import_from(id)``, which cdktf writes as an
``import`` block (``{"to": "<address>", "id": "<id>"}``) in that stack's
``cdk.tf.json``. The next ``terraform apply`` adopts the resource instead of
creating it, and ``review`` reports it as an import.

A path that leads nowhere, or to a construct that is not a single resource
(``models`` rather than ``models/bucket``), is a configuration error naming the
file, the entry and what exists at that point of the path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from cdktf import TerraformDataSource, TerraformResource, TerraformStack
from constructs import IConstruct

from sophia_config import AppConfig, ConfigError
from sophia_config.sections.imports import ExistingResource


def _children(node: IConstruct) -> str:
    names = sorted(child.node.id for child in node.node.children)
    return ", ".join(names[:20]) + (", ..." if len(names) > 20 else "") if names else "(none)"


def find_resource(stack: TerraformStack, path: str) -> tuple[TerraformResource | None, str]:
    """The resource at ``path`` under ``stack``, or (None, why not)."""
    node: IConstruct = stack
    walked = stack.node.id
    for part in path.split("/"):
        child = node.node.try_find_child(part)
        if child is None:
            return None, f"no construct {part!r} under {walked!r} (children: {_children(node)})"
        node, walked = child, f"{walked}/{part}"
    if isinstance(node, TerraformDataSource) or not isinstance(node, TerraformResource):
        return None, f"{walked!r} is a {type(node).__name__}, not a resource (children: {_children(node)})"
    return node, ""


def adopt(stacks: Mapping[str, TerraformStack], imports: Sequence[ExistingResource], source: Path | str) -> list[str]:
    """Mark each entry's resource for import; returns the problems (empty when all were found)."""
    problems, seen = [], {}
    for i, item in enumerate(imports):
        where = f"{source}: imports.{i}"
        stack = stacks.get(item.stack)
        if stack is None:
            problems.append(f"{where}.stack: unknown function stack {item.stack!r} (known: {', '.join(sorted(stacks))})")
            continue
        resource, why = find_resource(stack, item.path)
        if resource is None:
            problems.append(f"{where}.path: {why}")
            continue
        key = (item.stack, item.path)
        if key in seen:
            problems.append(f"{where}: {item.stack}/{item.path} is already imported by imports.{seen[key]}")
            continue
        seen[key] = i
        resource.import_from(item.id)
    return problems


def adopt_existing(environments: Mapping[str, object], config: AppConfig) -> None:
    """Apply every environment's ``imports:``; raises :class:`ConfigError` listing all problems.

    ``environments`` maps an environment name to its ``EnvironmentStacks``
    (anything with ``.all()`` returning stacks that carry a ``function``).
    """
    problems: list[str] = []
    for env in config.environments:
        if not env.config.imports:
            continue
        built = environments[env.name]
        stacks = {stack.function: stack for stack in built.all()}  # type: ignore[attr-defined]
        problems += adopt(stacks, env.config.imports, env.source)
    if problems:
        raise ConfigError(problems)

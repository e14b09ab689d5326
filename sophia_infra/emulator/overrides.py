"""Turn :data:`moto_limits.LIMITS` into a stack's ``emulator_override.tf.json``.

The override is written next to the synthesized ``cdk.tf.json`` in the emulator's
own output directory; Terraform merges ``*_override.tf.json`` files over the
configuration (https://developer.hashicorp.com/terraform/language/files/override).

An excluded resource gets ``count = 0``. Terraform still checks every reference
statically, so what refers to an excluded resource is excluded too (a resource
or data source) or replaced by a placeholder (an output), and references among excluded
resources point at their absent first instance: none of them is ever evaluated.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from sophia_infra.emulator.moto_limits import LIMITS, Adjust, Exclude, IgnoreChanges, ProviderSettings, SkipStack

OVERRIDE_FILE = "emulator_override.tf.json"
EXCLUDED_OUTPUT = "(excluded on the emulator)"

_INTERPOLATION = re.compile(r"\$\{[^{}]*\}")
_REFERENCE = re.compile(r"(?<![\w.-])(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)")


@dataclass
class StackPlan:
    """What the emulator run changes in one stack, and why."""

    stack: str
    skipped: str | None = None
    # address -> reason
    excluded: dict[str, str] = field(default_factory=dict)
    replaced_outputs: dict[str, str] = field(default_factory=dict)
    # "type: attr, attr" -> reason
    adjusted: dict[str, str] = field(default_factory=dict)
    override: dict = field(default_factory=dict)

    @property
    def excluded_resources(self) -> list[str]:
        return [a for a in self.excluded if not a.startswith("data.")]


def skip_reason(stack: str) -> str | None:
    function = stack.rsplit("-", 1)[0]
    for limit in LIMITS:
        if isinstance(limit, SkipStack) and limit.function == function:
            return limit.limitation
    return None


def plan_stack(stack: str, config: dict) -> StackPlan:
    """The override for ``stack`` (its synthesized ``cdk.tf.json``, parsed)."""
    plan = StackPlan(stack, skipped=skip_reason(stack))
    if plan.skipped:
        return plan
    resources: dict[str, dict] = config.get("resource", {})
    data: dict[str, dict] = config.get("data", {})
    nodes = {f"{t}.{n}": body for t, items in resources.items() for n, body in items.items()}
    nodes.update({f"data.{t}.{n}": body for t, items in data.items() for n, body in items.items()})

    for limit in LIMITS:
        if isinstance(limit, Exclude) and (not limit.stacks or stack in limit.stacks):
            for name in resources.get(limit.resource_type, {}):
                if not any(fnmatch.fnmatchcase(name, pattern) for pattern in limit.names):
                    continue
                plan.excluded[f"{limit.resource_type}.{name}"] = limit.limitation
    _exclude_dependents(nodes, plan.excluded)

    override: dict[str, dict] = {}
    for address in plan.excluded:
        body = nodes[address]
        if "count" in body or "for_each" in body:
            raise ValueError(f"{stack}: cannot exclude {address} on the emulator: it already sets count/for_each")
        block = {"count": 0}
        for key, value in body.items():
            if key in ("depends_on", "lifecycle", "provider", "//"):
                continue
            rewritten = _replace_references(value, plan.excluded)
            if rewritten != value:
                block[key] = rewritten
        _put(override, address, block)

    for name, body in config.get("output", {}).items():
        hits = _references(body.get("value"), plan.excluded)
        if hits:
            plan.replaced_outputs[name] = f"needs {sorted(hits)[0]} (excluded)"
            # Not null: the cdktf CLI (0.21.0) fails printing a null output after the apply.
            override.setdefault("output", {})[name] = {"value": EXCLUDED_OUTPUT}

    for limit in LIMITS:
        if isinstance(limit, IgnoreChanges) and limit.resource_type in resources:
            for name, body in resources[limit.resource_type].items():
                address = f"{limit.resource_type}.{name}"
                if address in plan.excluded:
                    continue
                # An override's ignore_changes replaces the original list: keep what the stack
                # ignores, and what earlier entries added.
                lifecycle = _block(override, address).get("lifecycle") or dict(body.get("lifecycle", {}))
                ignored = lifecycle.get("ignore_changes", [])
                lifecycle["ignore_changes"] = [*ignored, *(a for a in limit.attributes if a not in ignored)]
                _put(override, address, {"lifecycle": lifecycle})
            plan.adjusted[f"{limit.resource_type}: ignore changes to {', '.join(limit.attributes)}"] = limit.limitation
        elif isinstance(limit, Adjust) and limit.resource_type in resources:
            for name in resources[limit.resource_type]:
                if f"{limit.resource_type}.{name}" not in plan.excluded:
                    _put(override, f"{limit.resource_type}.{name}", dict(limit.settings))
            settings = ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in limit.settings.items())
            plan.adjusted[f"{limit.resource_type}: {settings}"] = limit.limitation
        elif isinstance(limit, ProviderSettings) and limit.data_source in _data_sources(config):
            for provider in override.setdefault("provider", {}).setdefault("aws", [{}]):
                provider.update(limit.settings)
            settings = ", ".join(f"{k}={json.dumps(v)}" for k, v in limit.settings.items())
            plan.adjusted[f"aws provider: {settings}"] = limit.limitation
    plan.override = override
    return plan


def _data_sources(config: dict) -> set[str]:
    """Data source types the stack reads, at the top level or scoped in a ``check`` block."""
    found = set(config.get("data", {}))
    for check in config.get("check", {}).values():
        found |= set(check.get("data", {}))
    return found


def write_override(stack_dir: Path, plan: StackPlan) -> Path | None:
    """Write (or remove) the stack's override file; returns its path when one was written."""
    path = stack_dir / OVERRIDE_FILE
    if not plan.override:
        path.unlink(missing_ok=True)
        return None
    path.write_text(json.dumps(plan.override, indent=2, sort_keys=True) + "\n")
    return path


def _exclude_dependents(nodes: dict[str, dict], excluded: dict[str, str]) -> None:
    changed = True
    while changed:
        changed = False
        for address, body in nodes.items():
            if address in excluded:
                continue
            refs = _references({k: v for k, v in body.items() if k not in ("depends_on", "//")}, excluded)
            if refs:
                excluded[address] = f"needs {sorted(refs)[0]}, which is excluded"
                changed = True


def _references(value, addresses) -> set[str]:
    """Addresses among ``addresses`` that ``value`` refers to inside ``${...}``."""
    found: set[str] = set()
    for text in _strings(value):
        for expression in _INTERPOLATION.findall(text):
            for prefix, rtype, name in _REFERENCE.findall(expression):
                address = f"{prefix}{rtype}.{name}"
                if address in addresses:
                    found.add(address)
    return found


def _replace_references(value, addresses):
    """References to excluded resources as references to their (absent) first instance.

    Terraform validates an excluded resource's arguments even with ``count = 0``;
    ``x.y[0]`` is unknown during validation (so no validator rejects it) and is
    never evaluated in a plan, because nothing with ``count = 0`` is.
    """
    if isinstance(value, str):
        return _INTERPOLATION.sub(lambda m: _REFERENCE.sub(lambda r: _indexed(r, addresses), m.group(0)), value)
    if isinstance(value, list):
        return [_replace_references(v, addresses) for v in value]
    if isinstance(value, dict):
        return {k: _replace_references(v, addresses) for k, v in value.items()}
    return value


def _indexed(match: re.Match, addresses) -> str:
    prefix, rtype, name = match.groups(default="")
    return f"{match.group(0)}[0]" if f"{prefix}{rtype}.{name}" in addresses else match.group(0)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _block(override: dict, address: str) -> dict:
    """The override block of ``address`` (created empty)."""
    parts = address.split(".")
    kind, rtype, name = ("data", parts[1], parts[2]) if parts[0] == "data" else ("resource", parts[0], parts[1])
    return override.setdefault(kind, {}).setdefault(rtype, {}).setdefault(name, {})


def _put(override: dict, address: str, block: dict) -> None:
    _block(override, address).update(block)

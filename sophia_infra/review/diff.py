"""Structural diff of attribute values and of whole stacks, and which changes force a new resource.

JSON-string values (policies, dashboards) are parsed and diffed structurally; token
references (``${aws_vpc.main.id}``) are compared as they are written.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sophia_infra.review.aws_facts import FORCE_NEW
from sophia_infra.review.loader import Stack
from sophia_infra.review.model import AttributeChange, ResourceChange, StackReview

MISSING = object()


def strip_meta(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_meta(v) for k, v in value.items() if k != "//"}
    if isinstance(value, list):
        return [strip_meta(v) for v in value]
    return value


def as_json(value: Any) -> Any:
    """The parsed value of a JSON object/array string, else ``MISSING``."""
    if isinstance(value, str) and value[:1] in "{[" and len(value) > 1:
        try:
            parsed = json.loads(value)
        except ValueError:
            return MISSING
        if isinstance(parsed, (dict, list)):
            return parsed
    return MISSING


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def diff_values(old: Any, new: Any, path: str = "") -> list[AttributeChange]:
    """The leaf-level differences between two attribute values, in a stable order."""
    if old == new:
        return []
    # A block that appears or disappears is reported leaf by leaf, so that rules
    # keyed on leaves (``lifecycle.prevent_destroy``) see it.
    if old is MISSING and isinstance(new, dict) and new:
        return diff_values({}, new, path)
    if new is MISSING and isinstance(old, dict) and old:
        return diff_values(old, {}, path)
    if old is MISSING:
        return [AttributeChange(path, None, new, "added")]
    if new is MISSING:
        return [AttributeChange(path, old, None, "removed")]
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[AttributeChange] = []
        for key in sorted(set(old) | set(new)):
            changes += diff_values(old.get(key, MISSING), new.get(key, MISSING), join_path(path, key))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        if all(not isinstance(v, (dict, list)) for v in old + new):
            return [AttributeChange(path, old, new, "changed")]
        changes = []
        for i in range(max(len(old), len(new))):
            a = old[i] if i < len(old) else MISSING
            b = new[i] if i < len(new) else MISSING
            changes += diff_values(a, b, f"{path}[{i}]")
        return changes
    parsed_old, parsed_new = as_json(old), as_json(new)
    if parsed_old is not MISSING and parsed_new is not MISSING:
        return diff_values(parsed_old, parsed_new, f"{path} (json)")
    return [AttributeChange(path, old, new, "changed")]


def _schema_path(path: str) -> str:
    """``vpc_config[0].subnet_ids`` -> ``vpc_config.subnet_ids`` (for the FORCE_NEW table)."""
    return re.sub(r"\[\d+\]", "", path).split(" (json)")[0]


def forces_new(rtype: str, path: str) -> bool:
    """Whether changing ``path`` of a ``rtype`` resource makes Terraform replace it.

    The one reader of :data:`aws_facts.FORCE_NEW`, generated from the providers' own
    facts (``sophia_infra/review/force_new_*.json``, ``tools/gen_force_new.py``)."""
    keys = FORCE_NEW.get(rtype, frozenset())
    schema = _schema_path(path)
    return any(schema == k or schema.startswith(k + ".") for k in keys)


def ignored_paths(body: dict[str, Any] | None) -> tuple[str, ...]:
    """The attributes a resource's ``lifecycle.ignore_changes`` lists (``("all",)`` for all)."""
    listed = ((body or {}).get("lifecycle") or {}).get("ignore_changes") or ()
    if isinstance(listed, str):  # "all" (Terraform 0.12+ also accepts the bare keyword)
        return ("all",)
    return tuple(str(item) for item in listed)


def is_ignored(path: str, ignored: tuple[str, ...]) -> bool:
    """Whether a change at ``path`` falls under one of the ``ignored`` attributes."""
    if path.startswith("lifecycle.") or path.startswith("//"):
        return False
    if "all" in ignored:
        return True
    # ignore_changes writes nested attributes as Terraform references: a[0].b.
    schema = path.split(" (json)")[0]
    return any(schema == item or schema.startswith(item + ".") or schema.startswith(item + "[") for item in ignored)


def _path_of(body: dict[str, Any] | None) -> str:
    try:
        return body["//"]["metadata"]["path"]  # type: ignore[index]
    except (KeyError, TypeError):
        return ""


def diff_stack(name: str, base: Stack | None, head: Stack | None) -> StackReview:
    base_blocks = base.blocks() if base else {}
    head_blocks = head.blocks() if head else {}
    base_imports = base.imports() if base else {}
    head_imports = head.imports() if head else {}
    review = StackReview(name, "added" if base is None else "removed" if head is None else "unchanged")
    for address in sorted(set(base_blocks) | set(head_blocks)):
        old, new = base_blocks.get(address), head_blocks.get(address)
        if old is None:
            imported = address in head_imports and address not in base_imports
            review.resources.append(
                ResourceChange(address, "import" if imported else "add", _path_of(new), import_id=head_imports.get(address) if imported else None)
            )
            continue
        if new is None:
            review.resources.append(ResourceChange(address, "remove", _path_of(old)))
            continue
        changes = diff_values(strip_meta(old), strip_meta(new))
        # An import block added for a resource already in the configuration: the
        # apply adopts the existing object (a removed import block is a no-op).
        newly_imported = address in head_imports and address not in base_imports
        if not changes and not newly_imported:
            continue
        rtype = ResourceChange(address, "", "").type
        ignored = ignored_paths(new)
        marked = []
        for c in changes:
            kept = is_ignored(c.path, ignored)
            # An ignored attribute never reaches the plan, so it cannot force a replacement.
            marked.append(AttributeChange(c.path, c.old, c.new, c.kind, forces_new(rtype, c.path) and not kept, kept))
        if newly_imported:
            action = "import"
        elif any(c.forces_replacement for c in marked) and not address.startswith("data."):
            action = "replace"
        else:
            action = "change"
        review.resources.append(
            ResourceChange(address, action, _path_of(new), marked, import_id=head_imports[address] if newly_imported else None)
        )

    def section(doc: Stack | None, key: str) -> Any:
        return strip_meta((doc.doc.get(key) if doc else None) or {})

    review.outputs = diff_values(section(base, "output"), section(head, "output")) if base and head else []
    if base and head:
        settings = {
            # The whole block: backend, required_providers, required_version (and what comes).
            "terraform": (base.doc.get("terraform"), head.doc.get("terraform")),
            "provider": (section(base, "provider"), section(head, "provider")),
        }
        for prefix, (old, new) in settings.items():
            review.settings += diff_values(old or {}, new or {}, prefix)
    if review.status == "unchanged" and (review.resources or review.outputs or review.settings):
        review.status = "changed"
    return review


_MAX_VALUE = 160


def fmt(value: Any) -> str:
    """An attribute value on one line (compact JSON, cut after ``_MAX_VALUE`` characters)."""
    if value is None:
        return "(none)"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if len(text) > _MAX_VALUE:
        text = f"{text[: _MAX_VALUE - 20]}… ({len(text)} chars)"
    return text

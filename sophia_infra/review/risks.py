"""Risk rules: which changes of a stack a reviewer must look at, each with its reason.

A new rule is a function of the stack's :class:`~sophia_infra.review.model.StackReview`
(and the two stack bodies) called from :func:`stack_risks`, with its category in
:data:`RISK_CATEGORIES` and its facts in :mod:`~sophia_infra.review.aws_facts`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from constructs_lib.data.blue_green_database_props import ACTIVE, ROLE_TAG, STANDBY
from constructs_lib.security import facts
from sophia_infra.review.aws_facts import (
    DESTRUCTIVE_FLAGS,
    ENCRYPTION_RESOURCE_TYPES,
    ENCRYPTION_WORDS,
    POLICY_ATTACHMENT_TYPES,
    PROTECTION_FLAGS,
    STATEFUL_TYPES,
)
from sophia_infra.review.diff import fmt, strip_meta
from sophia_infra.review.iam import policy_pairs, widening
from sophia_infra.review.loader import Stack
from sophia_infra.review.model import AttributeChange, Risk, StackReview

RISK_CATEGORIES = {
    "stateful-removed": "a stateful resource is destroyed",
    "stateful-replaced": "a stateful resource is destroyed and re-created",
    "protection-off": "deletion protection turned off",
    "encryption-weakened": "encryption removed or weakened",
    "iam-widened": "an IAM policy grants more",
    "open-ingress": "a security group admits more public address space than a /24 (IPv4) or /48 (IPv6)",
    "backend-changed": "the state backend or state key changed",
    "provider-version-changed": "a provider version changed",
    "provider-region-changed": "the provider region changed (everything moves)",
}

_TOKEN_REF = re.compile(r"\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+|data\.[a-z0-9_]+\.[A-Za-z0-9_-]+)[.}]")


def _truthy(value: Any) -> bool:
    return value not in (None, False, "false", 0, "", [], {})


def _last_key(path: str) -> str:
    return re.sub(r"\[\d+\]$", "", path.split(".")[-1])


def _refs(body: Any) -> set[str]:
    """Addresses referenced by tokens anywhere in ``body``."""
    return set(_TOKEN_REF.findall(json.dumps(body)))


def _tls_version(value: Any) -> tuple[int, ...] | None:
    match = re.search(r"TLS[-_]?(\d+)[-_.](\d+)", str(value), re.IGNORECASE)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _encryption_reason(change: AttributeChange) -> str | None:
    path = change.path.lower()
    if not any(word in path for word in ENCRYPTION_WORDS):
        return None
    if change.kind == "removed" and _truthy(change.old):
        return f"`{change.path}` removed (was {fmt(change.old)})"
    if change.old is True and change.new is False:
        return f"`{change.path}` turned off"
    if _last_key(change.path) == "sse_algorithm" and str(change.old).startswith("aws:kms") and change.new == "AES256":
        return f"`{change.path}` weakened from {change.old} (customer-managed KMS key) to AES256 (S3-managed key)"
    old_tls, new_tls = _tls_version(change.old), _tls_version(change.new)
    if old_tls and new_tls and new_tls < old_tls:
        return f"`{change.path}` lowered from {change.old} to {change.new}"
    return None


def _protection_reason(change: AttributeChange) -> str | None:
    key = _last_key(change.path)
    if key in PROTECTION_FLAGS and _truthy(change.old) and not _truthy(change.new):
        return f"`{change.path}` turned off ({fmt(change.old)} -> {fmt(change.new)})"
    if key in DESTRUCTIVE_FLAGS and not _truthy(change.old) and change.new is True:
        return f"`{change.path}` turned on"
    return None


def _ingress_openings(stack: Stack | None) -> dict[tuple[str, str], str]:
    """(address, description) -> reason for every rule or group of ``stack`` admitting more
    public address space than the shared bound (judged on the union of sources)."""
    if stack is None:
        return {}
    found = facts.ingress_findings(stack.doc.get("resource") or {})
    return {(f.address, f.description): f"ingress {f.description}" for f in found}


SWITCH_PROCEDURE = "docs/constructs/data.md, Switching blue and green"
"""Where the blue/green switch, whose steps some risks are, is written down."""


def _blue_green_role(body: dict[str, Any] | None) -> str | None:
    tags = (body or {}).get("tags")
    return tags.get(ROLE_TAG) if isinstance(tags, dict) else None


def _expected_by(category: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> str | None:
    """The step of the blue/green switch a database change is, read from the instances' role tags.

    Only the two steps that look dangerous are recognised: the flip (the old active
    instance loses its deletion protection as it becomes the standby) and the retire
    (the standby is destroyed, RDS keeps its final snapshot). Anything else, such as
    destroying an instance that was active, is not part of the procedure.
    """
    before, after = _blue_green_role(old), _blue_green_role(new)
    if category == "stateful-removed" and before == STANDBY:
        return f"blue/green switch, step 4: retire the standby ({SWITCH_PROCEDURE})"
    if category == "protection-off" and (before, after) == (ACTIVE, STANDBY):
        return f"blue/green switch, step 3: flip active ({SWITCH_PROCEDURE})"
    return None


def stack_risks(stack: StackReview, base: Stack | None, head: Stack | None) -> list[Risk]:
    base_blocks = base.blocks() if base else {}
    head_blocks = head.blocks() if head else {}
    removed = {r.address for r in stack.resources if r.action == "remove"}
    risks: list[Risk] = []

    def flag(category: str, address: str, reason: str) -> None:
        expected = None
        if address.startswith("aws_db_instance."):
            expected = _expected_by(category, base_blocks.get(address), head_blocks.get(address))
        risks.append(Risk(category, stack.name, address, reason, expected))

    for res in stack.resources:
        old, new = base_blocks.get(res.address), head_blocks.get(res.address)
        if res.is_data:
            if res.action == "change" and res.type == "aws_iam_policy_document":
                for _, so, sn in policy_pairs(strip_meta(old), strip_meta(new)):
                    for reason in widening(so, sn):
                        flag("iam-widened", res.address, reason)
            continue
        if res.action == "remove":
            if res.type in STATEFUL_TYPES:
                flag("stateful-removed", res.address, f"{res.type} destroyed ({res.construct_path or res.address})")
            elif res.type in ENCRYPTION_RESOURCE_TYPES and not (_refs(old) & removed):
                flag("encryption-weakened", res.address, f"{res.type} removed")
            continue
        if res.action == "replace" and res.type in STATEFUL_TYPES:
            forcing = ", ".join(f"`{c.path}` {fmt(c.old)} -> {fmt(c.new)}" for c in res.changes if c.forces_replacement)
            flag("stateful-replaced", res.address, f"{res.type} replaced because {forcing} forces a new resource")
        for change in res.changes:
            for category, reason in (("protection-off", _protection_reason(change)), ("encryption-weakened", _encryption_reason(change))):
                if reason:
                    flag(category, res.address, reason)
        if res.action in ("change", "replace"):
            for where, so, sn in policy_pairs(strip_meta(old), strip_meta(new)):
                for reason in widening(so, sn):
                    flag("iam-widened", res.address, f"{where}: {reason}")
        if res.type in POLICY_ATTACHMENT_TYPES:
            arn = (new or {}).get("policy_arn", "")
            if facts.is_broad_managed_policy(arn) and arn != (old or {}).get("policy_arn"):
                flag("iam-widened", res.address, f"broad managed policy attached: {arn}")

    base_openings, head_openings = _ingress_openings(base), _ingress_openings(head)
    for (address, _), reason in sorted(head_openings.items()):
        if (address, _) not in base_openings:
            flag("open-ingress", address, reason)

    for change in stack.settings:
        if change.path.startswith("terraform.backend"):
            flag("backend-changed", "terraform.backend", f"`{change.path}` {fmt(change.old)} -> {fmt(change.new)}")
        elif change.path.startswith("terraform.required_providers") and _last_key(change.path) == "version" and change.kind == "changed":
            flag("provider-version-changed", change.path, f"{fmt(change.old)} -> {fmt(change.new)}")
        elif change.path.startswith("provider") and _last_key(change.path) == "region" and change.kind == "changed":
            flag("provider-region-changed", change.path, f"{fmt(change.old)} -> {fmt(change.new)}: every resource of the stack would be re-created")
    return risks

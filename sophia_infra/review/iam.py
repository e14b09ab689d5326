"""IAM policy analysis: normalised statements, and why a new policy grants more than an old one.

Reads both forms the synthesized JSON holds: ``aws_iam_policy_document`` data source
bodies (``statement`` blocks) and IAM JSON documents (``Statement``), also inside
JSON strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sophia_infra.review.diff import MISSING, as_json, join_path


@dataclass(frozen=True)
class PolicyStatement:
    sid: str
    effect: str
    actions: frozenset[str]
    resources: frozenset[str]
    principals: frozenset[str]
    conditions: frozenset[str]


def _as_set(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, (list, tuple)):
        return frozenset(str(v) for v in value)
    return frozenset({str(value)})


def statements(body: Any) -> list[PolicyStatement] | None:
    """Normalised statements of a policy: a ``aws_iam_policy_document`` data source
    body (``statement`` blocks) or a parsed IAM JSON document (``Statement``)."""
    result = []
    if isinstance(body, dict) and isinstance(body.get("statement"), list):
        for i, st in enumerate(body["statement"]):
            principals = frozenset(
                f"{p.get('type')}:{ident}" for p in st.get("principals") or [] for ident in p.get("identifiers") or []
            )
            conditions = frozenset(
                f"{c.get('test')}:{c.get('variable')}={sorted(c.get('values') or [])}" for c in st.get("condition") or []
            )
            result.append(
                PolicyStatement(
                    st.get("sid") or f"#{i}",
                    st.get("effect") or "Allow",
                    _as_set(st.get("actions")),
                    _as_set(st.get("resources")),
                    principals,
                    conditions,
                )
            )
        return result
    if isinstance(body, dict) and "Statement" in body:
        raw = body["Statement"]
        for i, st in enumerate(raw if isinstance(raw, list) else [raw]):
            principal = st.get("Principal")
            if principal == "*":
                principals = frozenset({"*:*"})
            elif isinstance(principal, dict):
                principals = frozenset(f"{k}:{v}" for k, vals in principal.items() for v in _as_set(vals))
            else:
                principals = frozenset()
            conditions = frozenset(
                f"{test}:{var}={sorted(_as_set(vals))}"
                for test, pairs in (st.get("Condition") or {}).items()
                for var, vals in pairs.items()
            )
            result.append(
                PolicyStatement(
                    st.get("Sid") or f"#{i}",
                    st.get("Effect") or "Allow",
                    _as_set(st.get("Action")),
                    _as_set(st.get("Resource")),
                    principals,
                    conditions,
                )
            )
        return result
    return None


def _is_wildcard_action(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def widening(old: list[PolicyStatement], new: list[PolicyStatement]) -> list[str]:
    """Why ``new`` grants more than ``old`` (empty when it does not)."""
    reasons = []
    allow_old = [s for s in old if s.effect == "Allow"]
    allow_new = [s for s in new if s.effect == "Allow"]
    actions_old = set().union(*(s.actions for s in allow_old)) if allow_old else set()
    actions_new = set().union(*(s.actions for s in allow_new)) if allow_new else set()
    added = sorted(actions_new - actions_old)
    wild = [a for a in added if _is_wildcard_action(a)]
    if wild:
        reasons.append(f"wildcard action {', '.join(wild)} allowed")
    if [a for a in added if a not in wild]:
        reasons.append(f"new actions allowed: {', '.join(a for a in added if a not in wild)}")
    star_old = {a for s in allow_old if "*" in s.resources for a in s.actions}
    star_new = {a for s in allow_new if "*" in s.resources for a in s.actions}
    if star_new - star_old:
        reasons.append(f"resource `*` newly allowed for {', '.join(sorted(star_new - star_old))}")
    principals_old = set().union(*(s.principals for s in allow_old)) if allow_old else set()
    principals_new = set().union(*(s.principals for s in allow_new)) if allow_new else set()
    if principals_new - principals_old:
        reasons.append(f"new principals: {', '.join(sorted(principals_new - principals_old))}")
    by_sid_old = {s.sid: s for s in allow_old}
    for s in allow_new:
        before = by_sid_old.get(s.sid)
        if before and before.conditions - s.conditions:
            reasons.append(f"condition removed from statement {s.sid}: {', '.join(sorted(before.conditions - s.conditions))}")
    deny_new = {(s.sid, s.actions) for s in new if s.effect == "Deny"}
    for s in old:
        if s.effect == "Deny" and (s.sid, s.actions) not in deny_new:
            reasons.append(f"Deny statement {s.sid} removed or changed ({', '.join(sorted(s.actions))})")
    return reasons


def policy_pairs(old: Any, new: Any, path: str = "") -> Iterable[tuple[str, list[PolicyStatement], list[PolicyStatement]]]:
    """Pairs of (old, new) policies found at the same place in two resource bodies."""
    so, sn = statements(old), statements(new)
    if so is not None and sn is not None:
        yield path or "statement", so, sn
        return
    jo, jn = as_json(old), as_json(new)
    if jo is not MISSING and jn is not MISSING:
        yield from policy_pairs(jo, jn, path)
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) & set(new)):
            yield from policy_pairs(old[key], new[key], join_path(path, key))

"""Rendering a review: Markdown for people (the pull-request comment), JSON for tools."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from sophia_infra.review.diff import fmt
from sophia_infra.review.model import AttributeChange, Review, StackReview
from sophia_infra.review.waves import mermaid

_FOLD_AFTER = 25


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    # Inline code in a Markdown table: a backtick or pipe inside would break it.
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


_ACTION_SIGN = {"add": "+", "import": "⇐", "change": "~", "replace": "±", "remove": "-"}


def _is_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def change_line(change: AttributeChange) -> str:
    note = ""
    if change.ignored:
        note = " (ignored after creation: lifecycle.ignore_changes)"
    if change.forces_replacement:
        # Two references may resolve to the same value (a renamed output): only a plan can tell.
        both_tokens = _is_token(change.old) and _is_token(change.new)
        note = " **(forces replacement if the referenced value differs)**" if both_tokens else " **(forces replacement)**"
    if change.kind == "added":
        return f"  - {_code(change.path)}: + {_code(fmt(change.new))}{note}"
    if change.kind == "removed":
        return f"  - {_code(change.path)}: - {_code(fmt(change.old))}{note}"
    if isinstance(change.old, list) and isinstance(change.new, list):
        gone = [v for v in change.old if v not in change.new]
        came = [v for v in change.new if v not in change.old]
        if gone or came:
            parts = [f"+ {_code(fmt(v))}" for v in came] + [f"- {_code(fmt(v))}" for v in gone]
            return f"  - {_code(change.path)}: {', '.join(parts)}{note}"
    return f"  - {_code(change.path)}: {_code(fmt(change.old))} → {_code(fmt(change.new))}{note}"


def _expected_note(review: Review) -> str:
    expected = sum(1 for risk in review.risks if risk.expected_by)
    if not expected:
        return ""
    of = "it is" if len(review.risks) == 1 else f"{expected} of them {'is' if expected == 1 else 'are'}"
    return f" ({of} a step of a documented procedure: still check each one.)"


def render_markdown(review: Review) -> str:
    if not review.changed:
        return f"No infrastructure changes ({len(review.stacks)} stacks compared).\n"
    all_res = [r for s in review.stacks for r in s.resources if not r.is_data]
    totals = {a: sum(1 for r in all_res if r.action == a) for a in _ACTION_SIGN}
    changed = [s for s in review.stacks if s.changed]
    out = ["## Infrastructure review", ""]
    out.append(
        f"{len(changed)} of {len(review.stacks)} stacks changed: "
        f"{totals['add']} to add, {totals['import']} to import, {totals['change']} to change, "
        f"{totals['replace']} to replace, {totals['remove']} to destroy. "
        + (f"**{len(review.risks)} risk{'s' if len(review.risks) != 1 else ''} flagged.**" if review.risks else "No risks flagged.")
        + _expected_note(review)
    )
    out.append("")
    if review.risks:
        out += ["### Risks", "", "| Risk | Stack | Resource | Reason |", "|---|---|---|---|"]
        for risk in review.risks:
            reason = _cell(risk.reason)
            if risk.expected_by:
                # Still a risk, still in the table: the procedure says it happens, the
                # reviewer confirms this change is that step and not a mistake.
                reason += f" **Expected by:** {_cell(risk.expected_by)}; confirm this is the step you meant."
            out.append(f"| ⚠️ {risk.category} | {risk.stack} | {_code(risk.address)} | {reason} |")
        out.append("")
    out += [
        "### Summary",
        "",
        "| Stack | Status | Add | Import | Change | Replace | Destroy | Data sources | Outputs | Settings |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in changed:
        data = sum(1 for r in s.resources if r.is_data)
        out.append(
            f"| {s.name} | {s.status} | {s.count('add')} | {s.count('import')} | {s.count('change')} | "
            f"{s.count('replace')} | {s.count('remove')} | {data} | {len(s.outputs)} | {len(s.settings)} |"
        )
    out.append("")
    out += ["### Deploy waves", ""]
    changed_names = set(review.changed_stacks)
    if review.waves:
        out.append("Stacks in one wave do not depend on each other and can be deployed in parallel.")
        out.append("")
        for i, wave in enumerate(review.waves, 1):
            labels = [f"`{n}`" + ("" if n in changed_names else " (dependent, re-plan)") for n in wave]
            out.append(f"{i}. {', '.join(labels)}")
    if review.removed_stacks:
        out.append("")
        out.append("Stacks removed (destroy dependents first): " + " → ".join(", ".join(f"`{n}`" for n in w) for w in review.destroy_waves))
    out += ["", "### Stack graph", "", "```mermaid", mermaid(review), "```", "", "### Changes", ""]
    for s in changed:
        out.append(f"#### {s.name} ({s.status})")
        out.append("")
        lines: list[str] = []
        for res in s.resources:
            where = f" — `{res.construct_path}`" if res.construct_path else ""
            extra = f" from id `{res.import_id}`" if res.import_id else ""
            lines.append(f"- **{_ACTION_SIGN[res.action]} {res.action}** `{res.address}`{extra}{where}")
            if res.action in ("change", "replace", "import"):
                lines += [change_line(c) for c in res.changes]
        if s.outputs:
            lines.append("- **outputs**")
            lines += [change_line(c) for c in s.outputs]
        if s.settings:
            lines.append("- **settings**")
            lines += [change_line(c) for c in s.settings]
        if len(lines) > _FOLD_AFTER:
            # Long lists are folded so that the risks and waves stay on the first screen.
            lines = [f"<details><summary>{len(s.resources)} resource changes</summary>", "", *lines, "", "</details>"]
        out += lines + [""]
    return "\n".join(out).rstrip() + "\n"


def truncate(text: str, limit: int) -> str:
    """``text`` cut at a line boundary to at most ``limit`` characters, saying so."""
    if len(text) <= limit:
        return text
    note = "\n\n_Review truncated: the full text is in the `review` artifact of this run._\n"
    cut = text[: max(0, limit - len(note) - 4)]
    cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else cut
    if cut.count("```") % 2:  # do not leave a code fence open
        cut += "```\n"
    return cut.rstrip() + note


def render_json(review: Review) -> str:
    def stack(s: StackReview) -> dict[str, Any]:
        return {
            "name": s.name,
            "status": s.status,
            "counts": {a: s.count(a) for a in _ACTION_SIGN} | {"data": sum(1 for r in s.resources if r.is_data)},
            "resources": [
                {
                    "address": r.address,
                    "action": r.action,
                    "construct_path": r.construct_path,
                    "import_id": r.import_id,
                    "changes": [c.as_dict() for c in r.changes],
                }
                for r in s.resources
            ],
            "outputs": [c.as_dict() for c in s.outputs],
            "settings": [c.as_dict() for c in s.settings],
        }

    payload = {
        "changed": review.changed,
        "stacks": [stack(s) for s in review.stacks if s.changed],
        "unchanged_stacks": sorted(s.name for s in review.stacks if not s.changed),
        "risks": [asdict(r) for r in review.risks],
        "waves": review.waves,
        "removed_stacks": review.removed_stacks,
        "destroy_waves": review.destroy_waves,
        "graph": {k: list(v) for k, v in sorted(review.graph.items())},
    }
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

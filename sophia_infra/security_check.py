"""``make check``: checkov over every synthesized stack, failing on any unjustified finding.

Three things checkov does not do for cdktf output, done here:

* cdktf writes unset optional attributes as ``null``, which hides findings (an
  open security group rule "passes" because ``prefix_list_ids`` is ``null``), so
  checkov scans a copy with every ``null`` removed (``build/checkov/stacks/``), and
  without the ``terraform`` block's scalar settings (``required_version``): checkov's
  JSON parser expects every member of that block to be an object and gives up on the
  whole file otherwise; no check reads them;
* checkov exits 0 when a file does not parse; here a parsing error, a stack
  without results or an unreadable report is a failure;
* justified skips are *scoped* (a check, the stacks or resources it is skipped
  for, and why) and reported as skipped per stack. They live in ``.checkov.yaml``
  as comments above each ``skip-check`` entry, so a bare ``checkov`` run at the
  repository root skips the same checks (everywhere), while ``make check``
  skips them only where the scope says::

      skip-check:
        # reason: why this finding is acceptable (required)
        # scope: *-dev, *-staging            (optional fnmatch patterns on
        #                                     "<stack>" or "<stack>/<resource>";
        #                                     default: everywhere)
        - CKV_AWS_338

checkov runs from its own virtual environment (``.venv-checkov``, made by
``make check``): it pins dependencies the app cannot share.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

BUILD_DIR = Path("build") / "checkov"
DEFAULT_CONFIG = Path(".checkov.yaml")
DEFAULT_CHECKOV = Path(".venv-checkov") / "bin" / "checkov"


class CheckError(Exception):
    """The scan could not be trusted (setup, parse or configuration problem)."""


@dataclass(frozen=True)
class Justification:
    check_id: str
    reason: str
    scopes: tuple[str, ...]  # fnmatch patterns; empty = everywhere
    line: int

    def covers(self, check_id: str, stack: str, resource: str) -> bool:
        if check_id != self.check_id:
            return False
        if not self.scopes:
            return True
        return any(fnmatch.fnmatchcase(stack, p) or fnmatch.fnmatchcase(f"{stack}/{resource}", p) for p in self.scopes)


_ENTRY = re.compile(r"^\s*-\s*([A-Z0-9_]+)\s*(?:#.*)?$")
_COMMENT = re.compile(r"^\s*#\s*(reason|scope)\s*:\s*(.*)$", re.IGNORECASE)


def load_justifications(path: Path) -> list[Justification]:
    """The ``skip-check`` entries of ``path`` with their ``# reason:``/``# scope:`` comments."""
    if not path.exists():
        return []
    justifications, reason, scopes, in_list = [], [], [], False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if re.match(r"^skip-check\s*:", line):
            in_list = True
            continue
        if in_list and re.match(r"^\S", line) and not line.startswith("#"):
            in_list = False
        if not in_list:
            continue
        if comment := _COMMENT.match(line):
            kind, text = comment.group(1).lower(), comment.group(2).strip()
            if kind == "reason":
                reason.append(text)
            else:
                scopes += [s.strip() for s in text.split(",") if s.strip()]
        elif line.strip().startswith("#") and reason:
            reason.append(line.strip().lstrip("#").strip())  # a reason continued on the next comment line
        elif entry := _ENTRY.match(line):
            if not reason:
                raise CheckError(f"{path}:{number}: skip of {entry.group(1)} has no '# reason:' comment above it")
            justifications.append(Justification(entry.group(1), " ".join(reason), tuple(scopes), number))
            reason, scopes = [], []
    return justifications


def strip_nulls(value):
    """``value`` without ``null`` members (recursively), as if cdktf had omitted unset attributes."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value if v is not None]
    return value


def for_checkov(config: dict) -> dict:
    """A stack's configuration as checkov's ``terraform_json`` parser can read it (see above)."""
    scanned = strip_nulls(config)
    if isinstance(scanned.get("terraform"), dict):
        scanned["terraform"] = {k: v for k, v in scanned["terraform"].items() if isinstance(v, dict)}
    return scanned


def stage(outdir: Path, scan_root: Path) -> list[str]:
    """Copy every ``cdk.tf.json`` as :func:`for_checkov` makes it to ``scan_root/<stack>/``;
    return the stack names."""
    if scan_root.exists():
        shutil.rmtree(scan_root)
    stacks = []
    for source in sorted(outdir.glob("stacks/*/cdk.tf.json")):
        stack = source.parent.name
        try:
            config = json.loads(source.read_text())
        except json.JSONDecodeError as exc:
            raise CheckError(f"{source}: not valid JSON ({exc})") from exc
        (scan_root / stack).mkdir(parents=True)
        (scan_root / stack / "cdk.tf.json").write_text(json.dumps(for_checkov(config), indent=2))
        stacks.append(stack)
    if not stacks:
        raise CheckError(f"no stacks in {outdir}/stacks: run `make synth` first")
    return stacks


def run_checkov(checkov: Path, scan_root: Path) -> dict:
    if not checkov.exists():
        raise CheckError(f"{checkov} not found: `make check` installs it into .venv-checkov")
    # Run from the build directory so checkov does not also load the repository's
    # .checkov.yaml, whose global skips would hide the findings scoped here.
    command = [
        str(checkov.resolve()), "-d", scan_root.name, "--framework", "terraform_json",
        "--skip-download", "--compact", "--output", "json",
    ]  # fmt: skip
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run(command, cwd=scan_root.parent, capture_output=True, text=True, env=env, check=False)
    if result.returncode not in (0, 1):
        raise CheckError(f"checkov exited {result.returncode}:\n{result.stderr[-3000:]}")
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise CheckError(f"checkov printed no JSON report ({exc}):\n{result.stdout[:500]}{result.stderr[-2000:]}") from exc
    reports = report if isinstance(report, list) else [report]
    tf_json = [r for r in reports if r.get("check_type") == "terraform_json"]
    if not tf_json:
        raise CheckError(f"checkov reported no terraform_json results (did it find {scan_root}?): {str(report)[:500]}")
    return tf_json[0]


def _stack_of(file_path: str) -> str:
    return file_path.strip("/").split("/")[0]


def _resource_of(check: dict) -> str:
    # checkov names resources "aws_x.name" (python checks) or "resource.name"/"data.name" (graph checks).
    return check.get("resource", "")


def classify(report: dict, stacks: list[str], justifications: list[Justification]):
    summary = report.get("summary", {})
    if summary.get("parsing_errors"):
        errors = report.get("results", {}).get("parsing_errors", [])
        raise CheckError(f"checkov could not parse {summary['parsing_errors']} file(s): {', '.join(errors)}")
    counts = {stack: {"passed": 0, "failed": 0, "skipped": 0} for stack in stacks}
    failures, skipped, used = [], [], set()
    results = report.get("results", {})
    for check in results.get("passed_checks", []):
        counts.setdefault(_stack_of(check["file_path"]), {"passed": 0, "failed": 0, "skipped": 0})["passed"] += 1
    for check in results.get("failed_checks", []):
        stack, resource = _stack_of(check["file_path"]), _resource_of(check)
        match = next((j for j in justifications if j.covers(check["check_id"], stack, resource)), None)
        entry = counts.setdefault(stack, {"passed": 0, "failed": 0, "skipped": 0})
        if match:
            entry["skipped"] += 1
            skipped.append((stack, resource, check["check_id"]))
            used.add(match)
        else:
            entry["failed"] += 1
            failures.append((stack, resource, check["check_id"], check.get("check_name", "")))
    unscanned = [s for s in stacks if not any(counts[s].values()) and s in counts]
    return counts, failures, skipped, [j for j in justifications if j not in used], unscanned


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outdir", type=Path, default=Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out")))
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--checkov", type=Path, default=Path(os.environ.get("SOPHIA_CHECKOV", DEFAULT_CHECKOV)))
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        justifications = load_justifications(args.config)
        scan_root = BUILD_DIR / "stacks"
        stacks = stage(args.outdir, scan_root)
        report = run_checkov(args.checkov, scan_root)
        counts, failures, skipped, unused, unscanned = classify(report, stacks, justifications)
    except CheckError as exc:
        print(f"check: {exc}", file=sys.stderr)
        return 2
    version = report.get("summary", {}).get("checkov_version", "?")
    print(f"check: checkov {version} over {len(stacks)} stacks (nulls stripped, {scan_root})")
    print(f"  {'stack':26} {'passed':>7} {'failed':>7} {'skipped':>8}")
    for stack in sorted(counts):
        c = counts[stack]
        print(f"  {stack:26} {c['passed']:7} {c['failed']:7} {c['skipped']:8}")
    totals = {k: sum(c[k] for c in counts.values()) for k in ("passed", "failed", "skipped")}
    print(f"  {'total':26} {totals['passed']:7} {totals['failed']:7} {totals['skipped']:8}")
    by_check = defaultdict(list)
    for stack, resource, check_id, name in failures:
        by_check[(check_id, name)].append(f"{stack}/{resource}")
    for (check_id, name), where in sorted(by_check.items()):
        print(f"  FAILED {check_id} {name}:")
        for item in where:
            print(f"           {item}")
    for j in unused:
        print(f"  note: {args.config}:{j.line}: skip of {j.check_id} matched no finding (remove it if stale)")
    for stack in unscanned:
        print(f"  note: {stack}: no check applied (no resources?)")
    print(
        f"check: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped (justified) "
        f"in {time.monotonic() - started:.1f}s"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""``make validate``: run ``terraform validate`` on every synthesized stack, offline.

For each ``cdktf.out/stacks/<stack>/cdk.tf.json`` whose providers are all in the
local mirror (see :mod:`sophia_infra.terraform_cli`), a copy of the stack
directory under ``build/validate/<stack>/`` gets ``terraform init
-backend=false`` and ``terraform validate -json``. Copies keep ``.terraform/``
and lock files out of ``cdktf.out/`` (which synthesis replaces as a whole).

Stacks needing a provider the mirror lacks are listed by name as *not
validated*, never counted as passed. Any error (init or validate) makes the
command exit 1, naming the stack and Terraform's message.

Usage: ``python -m sophia_infra.validate [--outdir cdktf.out] [--jobs N] [STACK ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sophia_infra import terraform_cli as tf

BUILD_DIR = Path("build")
EXACT_VERSION = re.compile(r"^=?\s*(\d+\.\d+\.\d+)$")

# Terraform's plugin cache is not safe for concurrent use: an init rewrites the
# cached provider ("mkdir ...: file exists"), and a validate running meanwhile
# finds "no package ... cached in .terraform/providers". So every init runs
# first, one at a time (about a second each, the provider is linked from the
# cache), and only then the validates, in parallel (they load the provider schema).


@dataclass
class StackResult:
    name: str
    status: str  # "valid" | "invalid" | "skipped"
    seconds: float = 0.0
    messages: list[str] = field(default_factory=list)


def missing_providers(needed: list[tf.Provider], available: set[tf.Provider]) -> list[str]:
    """Why a stack cannot be validated here (empty when it can).

    A provider absent from the mirror is a reason to skip. A provider present
    in another version is not: that is a binding/provider mismatch, and init
    reports it as an error.
    """
    have = {p.address for p in available}
    return [f"{p.short} {p.version}".strip() + " not in the provider mirror" for p in needed if p.address not in have]


def version_mismatches(needed: list[tf.Provider], available: set[tf.Provider]) -> list[str]:
    problems = []
    for provider in needed:
        exact = EXACT_VERSION.match(provider.version)
        versions = sorted(p.version for p in available if p.address == provider.address)
        if exact and versions and exact.group(1) not in versions:
            problems.append(
                f"requires {provider.short} {exact.group(1)} but the mirror has {', '.join(versions)} "
                "(provider bindings and provider binary disagree: see docs/troubleshooting.md)"
            )
    return problems


def _diagnostics(output: str) -> list[str]:
    try:
        report = json.loads(output)
    except json.JSONDecodeError:
        return [output.strip() or "terraform validate printed no JSON"]
    messages = []
    for diag in report.get("diagnostics", []):
        if diag.get("severity") != "error":
            continue
        where = diag.get("range") or {}
        location = f" ({where.get('filename')}:{where.get('start', {}).get('line')})" if where else ""
        detail = " ".join(str(diag.get("detail", "")).split())
        messages.append(f"{diag.get('summary')}{location}{': ' + detail if detail else ''}")
    if not report.get("valid", False) and not messages:
        messages.append("terraform validate reported the configuration invalid without an error diagnostic")
    return messages


def _stage(stack_dir: Path, work: Path) -> None:
    """Copy the synthesized files; keep a previous ``.terraform/`` for a faster init."""
    work.mkdir(parents=True, exist_ok=True)
    for old in work.iterdir():
        if old.name not in (".terraform", ".terraform.lock.hcl"):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    for item in stack_dir.iterdir():
        if item.name.startswith(".terraform"):
            continue
        target = work / item.name
        shutil.copytree(item, target) if item.is_dir() else shutil.copy2(item, target)


def init_stack(stack_dir: Path, work_root: Path, env: dict[str, str], available: set[tf.Provider]) -> StackResult | None:
    """Stage and ``terraform init`` a stack; a result if it ends here (skipped or invalid), else None."""
    name = stack_dir.name
    started = time.monotonic()
    needed = tf.required_providers(json.loads((stack_dir / "cdk.tf.json").read_text()))
    missing = missing_providers(needed, available)
    if missing:
        return StackResult(name, "skipped", messages=missing)
    mismatches = version_mismatches(needed, available)
    if mismatches:
        return StackResult(name, "invalid", time.monotonic() - started, mismatches)
    work = work_root / name
    _stage(stack_dir, work)
    init = tf.run(["init", "-backend=false", "-input=false", "-no-color"], work, env)
    if init.returncode != 0:
        return StackResult(name, "invalid", time.monotonic() - started, [f"terraform init failed: {init.stderr.strip()}"])
    return None


def run_validate(name: str, work_root: Path, env: dict[str, str]) -> StackResult:
    started = time.monotonic()
    result = tf.run(["validate", "-json", "-no-color"], work_root / name, env)
    messages = _diagnostics(result.stdout)
    if result.returncode != 0 and not messages:
        messages = [result.stderr.strip() or f"terraform validate exited {result.returncode}"]
    return StackResult(name, "invalid" if messages else "valid", time.monotonic() - started, messages)


def stack_dirs(outdir: Path, names: list[str]) -> list[Path]:
    found = sorted(p.parent for p in outdir.glob("stacks/*/cdk.tf.json"))
    if names:
        unknown = sorted(set(names) - {p.name for p in found})
        if unknown:
            raise tf.TerraformSetupError(f"no synthesized stack named {', '.join(unknown)} in {outdir}/stacks")
        found = [p for p in found if p.name in names]
    if not found:
        raise tf.TerraformSetupError(f"no stacks in {outdir}/stacks: run `make synth` first")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("stacks", nargs="*", help="stack names (default: every stack)")
    parser.add_argument("--outdir", type=Path, default=Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out")))
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("SOPHIA_VALIDATE_JOBS", min(4, os.cpu_count() or 1))))
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        dirs = stack_dirs(args.outdir, args.stacks)
        tf.terraform_binary()
        mirror = tf.find_mirror()
        available = tf.mirror_providers(mirror)
        cli_config = tf.write_cli_config(BUILD_DIR / "terraform.rc", mirror, BUILD_DIR / "tf-plugin-cache")
    except tf.TerraformSetupError as exc:
        print(f"validate: {exc}", file=sys.stderr)
        return 2
    env = tf.terraform_env(cli_config)
    work_root = BUILD_DIR / "validate"
    listing = ", ".join(sorted(f"{p.short} {p.version}" for p in available))
    print(f"validate: {len(dirs)} stacks; providers from {mirror} ({listing}); CLI config {cli_config}")

    early = {d.name: init_stack(d, work_root, env, available) for d in dirs}
    ready = [name for name, result in early.items() if result is None]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        validated = dict(zip(ready, pool.map(lambda name: run_validate(name, work_root, env), ready)))
    results = [early[d.name] or validated[d.name] for d in dirs]

    for result in results:
        if result.status == "valid":
            print(f"  ok       {result.name} ({result.seconds:.1f}s)")
        elif result.status == "invalid":
            for message in result.messages:
                print(f"  ERROR    {result.name}: {message}")
    skipped = [r for r in results if r.status == "skipped"]
    if skipped:
        print("not validated (provider not available on this machine):")
        for result in skipped:
            print(f"  skipped  {result.name}: {'; '.join(result.messages)}")
    counts = {s: sum(r.status == s for r in results) for s in ("valid", "invalid", "skipped")}
    print(
        f"validate: {counts['valid']} valid, {counts['invalid']} invalid, "
        f"{counts['skipped']} not validated, in {time.monotonic() - started:.1f}s"
    )
    return 1 if counts["invalid"] else 0


if __name__ == "__main__":
    sys.exit(main())

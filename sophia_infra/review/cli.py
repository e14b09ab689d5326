"""Review a change by comparing two synthesized ``cdktf.out/`` directories.

``cdktf diff`` needs credentials, deployed upstream state and a Terraform run per
stack; a pull-request reviewer needs an account of the change that works on any
runner, offline, in seconds. This module reads two synthesized outputs (the base
branch's and the change's) and reports, deterministically:

* per stack, the resources added, changed, replaced, removed and imported;
* per changed resource, the attributes that changed (old -> new); JSON-string
  values (policies, dashboards) are parsed and diffed structurally, token
  references (``${aws_vpc.main.id}``) are shown as they are;
* risk flags with their reasons (see :data:`risks.RISK_CATEGORIES`);
* the stack graph of ``manifest.json`` as Mermaid, changed stacks highlighted, and
  the deploy waves of the changed stacks and of what depends on them.

Usage::

    python -m sophia_infra.review BASE_OUT HEAD_OUT [--format markdown|json]
    python -m sophia_infra.review --base-ref origin/main [--head-out cdktf.out]

The second form synthesizes the base ref in a temporary ``git worktree`` (and
the working tree, unless ``--head-out`` names an existing output) first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sophia_infra.review.comparison import compare
from sophia_infra.review.loader import ReviewError, load
from sophia_infra.review.render import render_json, render_markdown, truncate


def _synth_command(tree: Path, outdir: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, CDKTF_OUTDIR=str(outdir), PYTHONPATH=str(tree), JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    # The current virtualenv runs both trees: the base ref's code is imported from
    # its worktree (script directory and PYTHONPATH come before site-packages).
    return subprocess.Popen(
        [sys.executable, str(tree / "main.py")], cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def synthesize_ref(ref: str, repo: Path, work: Path, head_out: Path | None) -> tuple[Path, Path]:
    """Synthesize ``ref`` (in a temporary worktree) and, unless given, the working tree, in parallel."""
    tree = work / "base-tree"
    subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", "--quiet", str(tree), ref], check=True)
    try:
        jobs = {"base": (_synth_command(tree, work / "base-out"), work / "base-out")}
        if head_out is None:
            jobs["head"] = (_synth_command(repo, work / "head-out"), work / "head-out")
        for label, (proc, _) in jobs.items():
            output, _ = proc.communicate()
            if proc.returncode != 0:
                what = ref if label == "base" else "the working tree"
                raise ReviewError(f"synthesizing {what} failed:\n{output.strip()}")
        return work / "base-out", head_out or work / "head-out"
    finally:
        subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)], check=False)


def save_base(base_dir: Path, target: Path) -> None:
    """``--save-base``: replace ``target`` with the base ref's synthesized output.

    Whatever is at ``target`` is removed first; the checks that keep this from
    deleting a directory the user owns belong here."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base_dir, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sophia_infra.review", description=__doc__.split("\n\n")[0])
    parser.add_argument("base_out", nargs="?", help="synthesized output of the base (cdktf.out directory)")
    parser.add_argument("head_out", nargs="?", help="synthesized output of the change (cdktf.out directory)")
    parser.add_argument("--base-ref", help="git ref to synthesize as the base (instead of BASE_OUT)")
    parser.add_argument("--head-out", help="with --base-ref: an existing synthesized output of the change (default: synthesize the working tree)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--output", "-o", help="also write the whole review to this file (never truncated)")
    parser.add_argument(
        "--max-chars",
        type=int,
        help="cut the Markdown on stdout to this length (a GitHub comment holds at most 65536 characters)",
    )
    parser.add_argument("--save-base", help="with --base-ref: keep the base ref's synthesized output in this directory")
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="sophia-review-") as tmp:
            if args.base_ref:
                if args.base_out:
                    parser.error("give either --base-ref REF [--head-out DIR] or BASE_OUT HEAD_OUT")
                repo = Path(subprocess.check_output(["git", "rev-parse", "--show-toplevel"], text=True).strip())
                head = Path(args.head_out).resolve() if args.head_out else None
                base_dir, head_dir = synthesize_ref(args.base_ref, repo, Path(tmp), head)
                if args.save_base:
                    save_base(base_dir, Path(args.save_base))
            else:
                if not (args.base_out and args.head_out):
                    parser.error("BASE_OUT and HEAD_OUT are required without --base-ref")
                base_dir, head_dir = Path(args.base_out), Path(args.head_out)
            review = compare(load(base_dir), load(head_dir))
    except (ReviewError, subprocess.CalledProcessError) as exc:
        print(f"review failed: {exc}", file=sys.stderr)
        return 1
    text = render_json(review) if args.format == "json" else render_markdown(review)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    if args.max_chars and args.format == "markdown":
        text = truncate(text, args.max_chars)
    sys.stdout.write(text)
    return 0

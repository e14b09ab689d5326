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
the working tree, unless ``--head-out`` names an existing output) first. The worktree and
the temporary folder are removed on success, failure, SIGINT and SIGTERM; those of a
review killed outright are removed by the next review. ``--save-base DIR`` follows the
dedicated-folder rule of :mod:`sophia_infra.outdir`.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sophia_infra import interrupts, synth
from sophia_infra import outdir as folders
from sophia_infra.review.comparison import compare
from sophia_infra.review.loader import ReviewError, load
from sophia_infra.review.render import render_json, render_markdown, truncate


def synthesize_ref(ref: str, repo: Path, work: Path, head_out: Path | None) -> tuple[Path, Path]:
    """Synthesize ``ref`` (in a temporary worktree) and, unless given, the working tree, in parallel."""
    tree = work / "base-tree"
    jobs: dict[str, tuple[subprocess.Popen[str], Path]] = {}
    try:
        _git(repo, "worktree", "add", "--detach", "--quiet", str(tree), ref)
        jobs["base"] = (synth.start_subprocess(work / "base-out", tree), work / "base-out")
        if head_out is None:
            jobs["head"] = (synth.start_subprocess(work / "head-out", repo), work / "head-out")
        for label, (proc, _) in jobs.items():
            output, _ = proc.communicate()
            if proc.returncode != 0:
                what = ref if label == "base" else "the working tree"
                raise ReviewError(f"synthesizing {what} failed:\n{output.strip()}")
        return work / "base-out", head_out or work / "head-out"
    finally:
        # Interrupted or failed: stop the synths first (each removes its own staging folder).
        for proc, _ in jobs.values():
            interrupts.stop(proc)
        subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)], capture_output=True, check=False)
        subprocess.run(["git", "-C", str(repo), "worktree", "prune"], capture_output=True, check=False)


def _git(repo: Path, *args: str) -> None:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReviewError(f"git {' '.join(args[:2])} failed: {result.stderr.strip()}")


WORK_PREFIX = "sophia-review-"
_WORK_ENTRIES = re.compile(r"^(base-tree|base-out|head-out|\.(base|head)-out\.(stage|old)-[a-z0-9_]{8})$")


def remove_stale_work(repo: Path, parent: Path | None = None) -> list[Path]:
    """Temporary folders of reviews that were killed (unlocked, holding only what a review
    writes), and the git worktrees registered in them."""
    removed = folders.remove_stale_work(WORK_PREFIX, _WORK_ENTRIES, parent)
    if removed:
        subprocess.run(["git", "-C", str(repo), "worktree", "prune"], capture_output=True, check=False)
    return removed


@contextlib.contextmanager
def work_folder(repo: Path) -> Iterator[Path]:
    """A locked temporary folder for one review, removed however the review ends."""
    remove_stale_work(repo)  # and the worktrees registered in them, which outdir cannot know
    with folders.locked_temporary(Path(tempfile.gettempdir()), WORK_PREFIX) as folder:
        yield folder


def save_base(base_dir: Path, target: Path) -> None:
    """``--save-base``: replace ``target`` (a dedicated folder: see :mod:`sophia_infra.outdir`)
    with the base ref's synthesized output, all or nothing."""
    target = folders.check_replaceable(target, "--save-base folder")
    folders.remove_stale(target)
    with folders.staging(target) as staging:
        shutil.copytree(base_dir, staging, dirs_exist_ok=True)
        folders.replace(staging, target, "--save-base folder")


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
        with interrupts.handled():
            review = _review(parser, args)
    except interrupts.Interrupted as exc:
        print(f"review interrupted ({exc.name}): its temporary worktree and folders were removed", file=sys.stderr)
        return exc.exit_code
    except (ReviewError, folders.OutdirError) as exc:
        print(f"review failed: {exc}", file=sys.stderr)
        return 1
    text = render_json(review) if args.format == "json" else render_markdown(review)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"review failed: cannot write --output {args.output}: {exc.strerror}", file=sys.stderr)
            return 1
    if args.max_chars and args.format == "markdown":
        text = truncate(text, args.max_chars)
    sys.stdout.write(text)
    return 0


def _review(parser: argparse.ArgumentParser, args: argparse.Namespace):  # noqa: ANN202 - a Review
    if not args.base_ref:
        if not (args.base_out and args.head_out):
            parser.error("BASE_OUT and HEAD_OUT are required without --base-ref")
        return compare(load(Path(args.base_out)), load(Path(args.head_out)))
    if args.base_out:
        parser.error("give either --base-ref REF [--head-out DIR] or BASE_OUT HEAD_OUT")
    # Refuse a --save-base folder the user owns before spending a synthesis on it.
    save = folders.check_replaceable(args.save_base, "--save-base folder") if args.save_base else None
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False)
    if top.returncode != 0:
        raise ReviewError(f"--base-ref needs a git repository: {top.stderr.strip()}")
    repo = Path(top.stdout.strip())
    head = Path(args.head_out).resolve() if args.head_out else None
    with work_folder(repo) as work:
        base_dir, head_dir = synthesize_ref(args.base_ref, repo, work, head)
        if save is not None:
            save_base(base_dir, save)
        return compare(load(base_dir), load(head_dir))

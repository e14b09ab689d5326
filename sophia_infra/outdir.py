"""Folders a command replaces or removes: dedicated ones only, and nothing left behind.

Every folder a command replaces as a whole (``cdktf.out/`` or ``$CDKTF_OUTDIR``,
``review --save-base DIR``) passes :func:`check_replaceable` first. It refuses:

* an empty path or ``.``;
* the repository, the working directory, or any folder that contains either of them;
* a path inside a ``.git`` folder, and a symbolic link (its target would be replaced);
* an existing file, and an existing folder that is not a previous synthesis output: one
  holding ``manifest.json`` and ``stacks/`` and nothing else at its top, and in each
  ``stacks/<stack>/`` only what synthesis writes (``cdk.tf.json``) and what ``cdktf
  diff|deploy|destroy`` has Terraform add there (:data:`CLI_STACK_ENTRIES`), with no
  Terraform state (``*.tfstate``) outside ``.terraform/``. ``.terraform/terraform.tfstate``
  is the backend configuration ``terraform init`` caches, not state; real state there
  would be a user's, and refused by name. An empty folder is fine: there is nothing to lose.

Work happens in a sibling folder from :func:`staging` (``.<name>.stage-XXXXXXXX``), which
is swapped in by :func:`replace` and removed on any failure, interrupt included. Each
such folder is locked (``flock`` on the folder itself) while its command runs, so
:func:`remove_stale` (run before each synthesis) deletes only leftovers of a command that
was killed (SIGKILL, power loss): never the folder of a synthesis still running next to
this one. Leftovers from before this scheme (``.cdktf.out.<random>`` without
``stage-``) are not recognisably ours and are left alone.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sophia_infra import interrupts

REPOSITORY = Path(__file__).resolve().parents[1]
OUTPUT_ENTRIES = frozenset({"manifest.json", "stacks"})
SYNTH_STACK_ENTRIES = frozenset({"cdk.tf.json"})
# What the cdktf CLI 0.21 leaves in a stack's folder (it runs Terraform there): the
# provider and backend cache (.terraform/), the dependency lock file, the saved plan
# (`plan -out plan`), and the configuration `plan -generate-config-out` writes for import
# blocks. It writes nothing at the top of the output folder.
CLI_STACK_ENTRIES = frozenset({".terraform", ".terraform.lock.hcl", "plan", "generated_resources.tf"})
STATE_SUFFIXES = (".tfstate", ".tfstate.backup")


class OutdirError(Exception):
    """A folder may not be replaced or written; ``str()`` says which, why, and what to do."""


def _git_toplevel(folder: Path) -> Path | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return Path(out.stdout.strip()).resolve() if out.returncode == 0 and out.stdout.strip() else None


def _protected() -> list[tuple[Path, str]]:
    cwd = Path.cwd().resolve()
    found = [(REPOSITORY, "the repository"), (cwd, "the working directory")]
    top = _git_toplevel(cwd)
    if top is not None:
        found.append((top, "the git repository of the working directory"))
    return found


def not_a_synthesis_output(folder: Path) -> str | None:
    """Why ``folder`` (an existing folder) is not a previous synthesis output, or None."""
    try:
        names = sorted(entry.name for entry in folder.iterdir())
    except OSError as exc:
        return f"it cannot be listed ({exc.strerror})"
    if not names:
        return None
    extra = [name for name in names if name not in OUTPUT_ENTRIES]
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        return f"it holds {shown}, which synthesis never writes"
    if not (folder / "manifest.json").is_file() or not (folder / "stacks").is_dir():
        return "it lacks manifest.json or stacks/"
    return _not_stack_folders(folder)


def _not_stack_folders(folder: Path) -> str | None:
    """Why ``folder/stacks`` holds something neither synthesis nor the cdktf CLI writes, or None."""
    for stack in sorted((folder / "stacks").iterdir()):
        if stack.is_symlink() or not stack.is_dir():
            return f"it holds {stack.relative_to(folder)}, which synthesis never writes"
        for entry in sorted(stack.iterdir()):
            where = entry.relative_to(folder)
            if entry.name.endswith(STATE_SUFFIXES):
                return f"{where} is Terraform state (move it somewhere safe first)"
            if entry.name not in SYNTH_STACK_ENTRIES | CLI_STACK_ENTRIES:
                return f"it holds {where}, which neither synthesis nor the cdktf CLI writes"
            if entry.name == ".terraform" and (entry.is_symlink() or not entry.is_dir()):
                return f"{where} is not Terraform's working folder"
    return None


def check_replaceable(target: Path | str, what: str = "output folder") -> Path:
    """``target`` resolved, if a command may replace it as a whole; :class:`OutdirError` otherwise."""
    raw = str(target)
    if not raw.strip() or Path(raw.strip()) == Path("."):
        raise OutdirError(f"{what} {raw!r} is empty or '.': name a dedicated folder such as cdktf.out")
    path = Path(raw).expanduser()
    if path.is_symlink():
        raise OutdirError(f"{what} {raw} is a symbolic link: name the real folder")
    resolved = path.resolve()
    for protected, label in _protected():
        if resolved == protected or resolved in protected.parents:
            relation = "is" if resolved == protected else "contains"
            raise OutdirError(f"{what} {raw} {relation} {label} ({protected}): name a dedicated folder such as cdktf.out")
    if ".git" in resolved.parts:
        raise OutdirError(f"{what} {raw} is inside a .git folder: name a dedicated folder such as cdktf.out")
    if resolved.exists():
        if not resolved.is_dir():
            raise OutdirError(f"{what} {raw} is a file: name a folder")
        problem = not_a_synthesis_output(resolved)
        if problem:
            raise OutdirError(
                f"{what} {raw} exists and is not a previous synthesis output: {problem}. "
                "Name a new folder, or move this one away"
            )
    return resolved


# --- Locked working folders -------------------------------------------------------------


def _stale_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(target.name)}\.(stage|old)-[a-z0-9_]{{8}}$")


def _lock_folder(folder: Path, blocking: bool = True) -> int | None:
    """An open descriptor holding an exclusive lock on ``folder`` (None if held elsewhere)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _still_there(folder: Path, fd: int) -> bool:
    try:
        return os.stat(folder).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def locked_folder(parent: Path, prefix: str) -> tuple[Path, int]:
    """A new folder ``parent/<prefix>XXXXXXXX`` and the descriptor of its lock."""
    for _ in range(10):
        folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        fd = _lock_folder(folder)
        assert fd is not None
        # A cleaner may have taken the lock between mkdtemp and flock and removed it.
        if _still_there(folder, fd):
            return folder, fd
        os.close(fd)
    raise OutdirError(f"could not create a working folder in {parent}")


def remove_unlocked(candidates: list[Path], recognisably_ours) -> list[Path]:  # noqa: ANN001
    """Remove each folder no running command holds and ``recognisably_ours(folder)`` accepts."""
    removed = []
    for folder in candidates:
        if folder.is_symlink() or not folder.is_dir():
            continue
        try:
            fd = _lock_folder(folder, blocking=False)
        except OSError:
            continue
        if fd is None:
            continue  # in use: a command is running there
        try:
            if _still_there(folder, fd) and recognisably_ours(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        finally:
            os.close(fd)
    return removed


def remove_stale(target: Path) -> list[Path]:
    """Remove the ``.<name>.stage-*`` / ``.<name>.old-*`` folders next to ``target`` left by a
    killed command: only unlocked ones holding nothing synthesis would not write."""
    parent = target.parent
    if not parent.is_dir():
        return []
    pattern = _stale_pattern(target)
    candidates = sorted(p for p in parent.iterdir() if pattern.match(p.name))
    if not target.exists() and not target.is_symlink():
        # Killed between the two renames of replace(): the last good output is the old one.
        olds = [p for p in candidates if ".old-" in p.name and not_a_synthesis_output(p) is None]
        if olds:
            newest = max(olds, key=lambda p: p.stat().st_mtime)
            with contextlib.suppress(OSError):  # another command may have put an output there meanwhile
                newest.rename(target)
                candidates.remove(newest)
    return remove_unlocked(candidates, lambda folder: not_a_synthesis_output(folder) is None)


@contextlib.contextmanager
def locked_temporary(parent: Path, prefix: str) -> Iterator[Path]:
    """A new folder from :func:`locked_folder`, locked while the block runs and removed
    however it ends (interrupt included)."""
    folder, fd = locked_folder(parent, prefix)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


@contextlib.contextmanager
def work_folder(prefix: str, entries: re.Pattern[str], parent: Path | None = None) -> Iterator[Path]:
    """A locked folder ``<prefix>XXXXXXXX`` in the temporary directory for one command's
    work, removed however the command ends. Those a killed run of the command left
    (unlocked, holding only names ``entries`` matches) are removed first."""
    parent = parent or Path(tempfile.gettempdir())
    remove_stale_work(prefix, entries, parent)
    with locked_temporary(parent, prefix) as folder:
        yield folder


def remove_stale_work(prefix: str, entries: re.Pattern[str], parent: Path | None = None) -> list[Path]:
    """The work folders of :func:`work_folder` that killed commands left, removed."""
    parent = parent or Path(tempfile.gettempdir())
    candidates = sorted(p for p in parent.glob(f"{prefix}*") if p.is_dir())
    return remove_unlocked(candidates, lambda folder: all(entries.match(entry.name) for entry in folder.iterdir()))


@contextlib.contextmanager
def staging(target: Path) -> Iterator[Path]:
    """A locked, empty sibling of ``target`` to write into; removed unless :func:`replace` took it.

    ``target`` must have passed :func:`check_replaceable`; the caller runs
    :func:`remove_stale` first (synthesis does it before it loads the configuration)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with locked_temporary(target.parent, f".{target.name}.stage-") as folder:
        yield folder


def replace(new: Path, target: Path, what: str = "output folder") -> None:
    """Put ``new`` (from :func:`staging`) in place of ``target`` with two renames; the old
    folder is removed after. Checked again first: something may have appeared meanwhile."""
    check_replaceable(target, what)
    # SIGINT/SIGTERM wait until both renames are done, so an interrupt never leaves the
    # target missing. No lock: when another command puts its output in place between our
    # two renames, ours fails with ENOTEMPTY and is retried (the last one wins).
    olds = []
    with interrupts.deferred():
        for _ in range(10):
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                os.rmdir(old)
                try:
                    target.rename(old)
                    olds.append(old)
                except FileNotFoundError:
                    pass  # another command moved it away first
            try:
                new.rename(target)
                break
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
        else:
            raise OutdirError(f"could not put the new output in place of {target}: other commands keep replacing it")
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)


# --- What was written ---------------------------------------------------------------------


def describe_output(outdir: Path) -> str:
    """``cdktf.out/: 25 stacks, 3 environments (dev, production, staging)``, from its manifest."""
    from stacks import FUNCTIONS

    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    names = sorted(manifest.get("stacks", {}))
    environments = sorted(
        {name[len(function) + 1 :] for name in names for function in FUNCTIONS if name.startswith(f"{function}-")}
    )
    where = os.path.relpath(outdir) if outdir.is_relative_to(Path.cwd()) else str(outdir)
    listed = f" ({', '.join(environments)})" if environments else ""
    plural = "" if len(environments) == 1 else "s"
    return f"{where}/: {len(names)} stacks, {len(environments)} environment{plural}{listed}"

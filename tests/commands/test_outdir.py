"""``sophia_infra.outdir``: a command replaces only a dedicated folder, and leaves nothing behind.

The subprocess cases run ``main.py`` as ``make synth`` and ``cdktf synth`` do, with a
folder the user owns as ``CDKTF_OUTDIR``: on the old code the synthesis renamed it
away and deleted it.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sophia_infra import synth
from tests.conftest import ROOT, tree_bytes


@pytest.fixture
def folders():
    # Imported here, not at the top: the subprocess cases also run against code without it.
    from sophia_infra import outdir

    return outdir


def previous_output(folder: Path) -> Path:
    (folder / "stacks" / "networking-dev").mkdir(parents=True)
    (folder / "stacks" / "networking-dev" / "cdk.tf.json").write_text('{"last": "good"}')
    (folder / "manifest.json").write_text(json.dumps({"stacks": {}}))
    return folder


def run_main(cwd: Path, outdir: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CDKTF_OUTDIR": outdir, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(ROOT / "main.py")], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("outdir", [".", ""])
def test_the_working_directory_is_never_the_output(tmp_path, outdir):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / ".git").mkdir()
    before = tree_bytes(tmp_path)
    result = run_main(tmp_path, outdir)
    assert result.returncode == 1, result.stderr
    assert "synth failed: output folder" in result.stderr and "name a dedicated folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert tmp_path.is_dir() and tree_bytes(tmp_path) == before


def test_an_ancestor_of_the_working_directory_is_refused(tmp_path):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    (tmp_path / "keep.txt").write_text("mine")
    result = run_main(work, "../..")
    assert result.returncode == 1
    assert "contains the working directory" in result.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine" and work.is_dir()


def test_a_refused_folder_is_refused_before_the_jsii_runtime_starts(tmp_path):
    # The answer comes at once (~0.03 s, not the ~0.5 s of starting Node and the libraries).
    code = (
        "import sys; from sophia_infra.synth import main; code = main([]); "
        "print([m for m in ('jsii', 'cdktf', 'sophia_config') if m in sys.modules]); sys.exit(code)"
    )
    env = {**os.environ, "CDKTF_OUTDIR": ".", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "name a dedicated folder" in result.stderr, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_folder_the_user_owns_is_refused_and_kept(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(Exception, match="exists and is not a previous synthesis output: it holds thesis.tex"):
        synth.synthesize(mine)
    assert (mine / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda t: ROOT, "is the repository"),
        (lambda t: ROOT.parent, "contains the repository"),
        (lambda t: ROOT / ".git" / "cdktf.out", "inside a .git folder"),
        (lambda t: (t / "file.txt").write_text("x") and t / "file.txt", "is a file"),
        (lambda t: (t / "link").symlink_to(previous_output(t / "real")) or t / "link", "is a symbolic link"),
        (lambda t: (t / "out").mkdir() or t / "out", None),  # empty: nothing to lose
        (lambda t: previous_output(t / "out"), None),
        (lambda t: t / "new" / "cdktf.out", None),
    ],
)
def test_which_folders_may_be_replaced(folders, tmp_path, make, needle):
    target = make(tmp_path)
    if needle is None:
        assert folders.check_replaceable(target) == Path(target).resolve()
    else:
        with pytest.raises(folders.OutdirError, match=needle):
            folders.check_replaceable(target)


def test_terraform_state_in_the_previous_output_is_never_deleted(folders, tmp_path):
    out = previous_output(tmp_path / "cdktf.out")
    (out / "stacks" / "state-bootstrap").mkdir()
    state = out / "stacks" / "state-bootstrap" / "terraform.tfstate"
    state.write_text('{"serial": 7}')
    with pytest.raises(folders.OutdirError, match="stacks/state-bootstrap/terraform.tfstate is Terraform state"):
        folders.check_replaceable(out)
    assert state.read_text() == '{"serial": 7}'


def test_replace_swaps_the_whole_folder_and_leaves_no_sibling(folders, tmp_path):
    target = previous_output(tmp_path / "cdktf.out")
    with folders.staging(target) as staging:
        (staging / "stacks").mkdir()
        (staging / "manifest.json").write_text('{"new": true}')
        folders.replace(staging, target)
    assert (target / "manifest.json").read_text() == '{"new": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_a_failure_inside_staging_removes_it(folders, tmp_path):
    target = previous_output(tmp_path / "cdktf.out")
    before = tree_bytes(target)
    with pytest.raises(RuntimeError), folders.staging(target) as staging:
        (staging / "manifest.json").write_text("half")
        raise RuntimeError("construct failed")
    assert tree_bytes(target) == before and sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_stale_folders_are_removed_only_when_unlocked_and_ours(folders, tmp_path):
    target = previous_output(tmp_path / "cdktf.out")
    killed = previous_output(tmp_path / ".cdktf.out.stage-abcd1234")
    running = tmp_path / ".cdktf.out.stage-efgh5678"
    running.mkdir()
    foreign = tmp_path / ".cdktf.out.stage-ijkl9012"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not ours")
    legacy = tmp_path / ".cdktf.out.mnop3456"  # before the stage- naming: not recognisably ours
    legacy.mkdir()
    fd = os.open(running, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a synthesis still running next to this one
    try:
        assert folders.remove_stale(target) == [killed]
        assert running.is_dir() and foreign.is_dir() and legacy.is_dir()
    finally:
        os.close(fd)
    assert folders.remove_stale(target) == [running]


def test_an_output_lost_between_the_two_renames_is_restored(folders, tmp_path):
    # SIGKILL after the old output was moved aside and before the new one was put in place.
    old = previous_output(tmp_path / ".cdktf.out.old-abcd1234")
    target = tmp_path / "cdktf.out"
    folders.remove_stale(target)
    assert not old.exists() and (target / "stacks" / "networking-dev" / "cdk.tf.json").read_text() == '{"last": "good"}'


def deployed_output(folder: Path) -> Path:
    """A previous output after `cdktf deploy`: what Terraform leaves in a stack's folder (seen in
    the e2e run: .terraform/ with the backend configuration cache, the lock file, the saved plan)."""
    out = previous_output(folder)
    stack = out / "stacks" / "networking-dev"
    (stack / ".terraform" / "providers").mkdir(parents=True)
    (stack / ".terraform" / "terraform.tfstate").write_text('{"backend": {"type": "s3"}}')
    (stack / ".terraform.lock.hcl").write_text("# lock")
    (stack / "plan").write_bytes(b"PK")
    return out


def test_what_cdktf_deploy_leaves_in_the_output_is_replaceable(folders, tmp_path):
    # .terraform/terraform.tfstate is terraform init's backend cache, not state.
    out = deployed_output(tmp_path / "cdktf.out")
    assert folders.not_a_synthesis_output(out) is None
    assert folders.check_replaceable(out) == out.resolve()


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ("stacks/networking-dev/terraform.tfstate.backup", "stacks/networking-dev/terraform.tfstate.backup is Terraform state"),
        ("stacks/networking-dev/errored.tfstate", "stacks/networking-dev/errored.tfstate is Terraform state"),
        ("stacks/networking-dev/notes.md", "it holds stacks/networking-dev/notes.md, which neither synthesis nor the cdktf CLI"),
        ("stacks/networking-dev/keep/state.json", "it holds stacks/networking-dev/keep, which neither"),
        ("stacks/README", "it holds stacks/README, which synthesis never writes"),
        ("plan", "it holds plan, which synthesis never writes"),
    ],
)
def test_anything_else_in_a_deployed_output_is_refused_and_kept(folders, tmp_path, entry, needle):
    out = deployed_output(tmp_path / "cdktf.out")
    (out / entry).parent.mkdir(parents=True, exist_ok=True)
    (out / entry).write_text("mine")
    with pytest.raises(folders.OutdirError, match=needle):
        folders.check_replaceable(out)
    assert (out / entry).read_text() == "mine"


def test_a_file_named_like_terraforms_folder_is_refused(folders, tmp_path):
    out = previous_output(tmp_path / "cdktf.out")
    (out / "stacks" / "networking-dev" / ".terraform").write_text("mine")
    with pytest.raises(folders.OutdirError, match=r"\.terraform is not Terraform's working folder"):
        folders.check_replaceable(out)


# --- a command's temporary work folder ---------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "prefix", "written"),
    [
        ("sophia_infra.deploy_output", "sophia-deploy-", ["cdktf.out", ".cdktf.out.stage-k2j4h6g8"]),
        ("sophia_infra.review.cli", "sophia-review-", ["base-tree", "base-out", "head-out", ".base-out.old-a1b2c3d4"]),
    ],
)
def test_the_next_run_removes_the_work_folder_a_killed_one_left_and_keeps_any_other(
    folders, tmp_path, module, prefix, written
):
    import importlib

    entries = importlib.import_module(module)._WORK_ENTRIES
    killed = tmp_path / f"{prefix}killed01"  # what a SIGKILLed run leaves: unlocked
    for name in written:
        (killed / name).mkdir(parents=True)
    foreign = tmp_path / f"{prefix}mine0001"
    (foreign / "cdktf.out").mkdir(parents=True)
    (foreign / "notes.txt").write_text("mine")
    running, fd = folders.locked_folder(tmp_path, prefix)  # another run, still going
    try:
        with folders.work_folder(prefix, entries, tmp_path) as work:
            assert work.is_dir() and work.name.startswith(prefix)
            assert not killed.exists()
            assert (foreign / "notes.txt").read_text() == "mine" and running.is_dir()
        assert not work.exists()
    finally:
        os.close(fd)

"""Synthesis is deterministic and the lazy provider loader changes nothing."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import tree_bytes


def _assert_identical(a: Path, b: Path) -> None:
    left, right = tree_bytes(a), tree_bytes(b)
    assert sorted(left) == sorted(right), "the two synths wrote different files"
    different = [name for name in left if left[name] != right[name]]
    assert not different, f"files differ between synths: {different}"


def test_an_environment_is_written_alike_by_two_synths_of_different_environment_sets(synth_outdir, qa_beside_dev):
    """Two processes, one synthesizing dev beside a new qa environment only, write dev's
    stacks byte for byte alike: the output depends on the input alone, and an
    environment's stacks on its own file. (The CLI's synth, another process, writes the
    whole tree alike: tests/app/test_cdktf_cli.py.)"""
    qa_out, _ = qa_beside_dev
    dev = sorted(p.name for p in (synth_outdir / "stacks").iterdir() if p.name.endswith("-dev"))
    assert dev and dev == sorted(p.name for p in (qa_out / "stacks").iterdir() if p.name.endswith("-dev"))
    for name in dev:
        _assert_identical(synth_outdir / "stacks" / name, qa_out / "stacks" / name)


def test_lazy_provider_loading_gives_the_same_bytes_as_the_eager_import(synth_outdir, eager_synth_outdir):
    # The eager synth also keeps jsii's runtime type checks (no -O): -O changes nothing either.
    _assert_identical(synth_outdir, eager_synth_outdir)


def test_output_names_no_absolute_path_or_machine_detail(synth_outdir):
    # A path or host name in the output would differ between machines.
    for name, data in tree_bytes(synth_outdir).items():
        text = data.decode()
        assert str(synth_outdir) not in text, name
        assert "/tmp/" not in text and "/root/" not in text, name

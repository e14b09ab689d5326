"""Synthesis is deterministic and the lazy provider loader changes nothing."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import tree_bytes


def _assert_identical(a: Path, b: Path) -> None:
    left, right = tree_bytes(a), tree_bytes(b)
    assert sorted(left) == sorted(right), "the two synths wrote different files"
    different = [name for name in left if left[name] != right[name]]
    assert not different, f"files differ between synths: {different}"


def test_two_synths_are_byte_identical(synth_outdir, second_synth_outdir):
    _assert_identical(synth_outdir, second_synth_outdir)


def test_lazy_provider_loading_gives_the_same_bytes_as_the_eager_import(synth_outdir, eager_synth_outdir):
    _assert_identical(synth_outdir, eager_synth_outdir)


def test_output_names_no_absolute_path_or_machine_detail(synth_outdir):
    # A path or host name in the output would differ between machines.
    for name, data in tree_bytes(synth_outdir).items():
        text = data.decode()
        assert str(synth_outdir) not in text, name
        assert "/tmp/" not in text and "/root/" not in text, name

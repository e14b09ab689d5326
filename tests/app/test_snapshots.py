"""One syrupy snapshot per synthesized stack, of every environment.

The snapshot is the stack's real Terraform JSON (cdktf's ``//`` metadata removed),
so a pull request's snapshot diff is the infrastructure diff. Update with
``pytest --snapshot-update`` and read the diff before committing it.
"""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

import sophia_config as config
from stacks import FUNCTIONS
from stacks.state_bootstrap import STACK_NAME as BOOTSTRAP
from tests.conftest import ROOT

EXPECTED_STACKS = sorted(
    [BOOTSTRAP] + [f"{function}-{env.name}" for env in config.load(ROOT / "config").environments for function in FUNCTIONS]
)


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_every_stack_is_synthesized(synth_outdir):
    assert sorted(p.name for p in (synth_outdir / "stacks").iterdir()) == EXPECTED_STACKS


@pytest.mark.parametrize("stack", EXPECTED_STACKS)
def test_stack_snapshot(stack, stack_json, snapshot_json):
    assert stack_json(stack) == snapshot_json

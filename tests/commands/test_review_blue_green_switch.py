"""The blue/green switch, step by step, through the review: each step is the data stack of
production synthesized with the configuration of that step, and each pair of consecutive
steps is reviewed exactly as a pull request would be (``python -m sophia_infra.review``).

The procedure is docs/constructs/data.md, "Switching blue and green": provision the
standby, verify it, flip ``active``, retire the old colour.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from cdktf import App

import sophia_config as config_mod
from constructs_lib.data.blue_green_database_props import ROLE_TAG
from sophia_config.model import Environment
from sophia_config.sections.blue_green import BlueGreenConfig
from sophia_infra.review import cli, comparison, loader, render
from stacks.base import StackContext
from stacks.data import DataStack

KEY = "arn:aws:kms:us-west-2:333333333333:key/0b1c2d3e-aaaa-bbbb-cccc-00000000000a"
UPSTREAM = dict(
    security=SimpleNamespace(kms_key_arn=lambda purpose: KEY),
    networking=SimpleNamespace(
        network=SimpleNamespace(
            vpc_id="vpc-0123456789abcdef0", database_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
        )
    ),
    compute=SimpleNamespace(cluster=SimpleNamespace(node_security_group_id="sg-0cccccccccccccccc")),
)
STACK = "data-production"
BLUE, GREEN = "sophia-data-postgres-production-blue", "sophia-data-postgres-production-green"

# The configuration of production's blue_green section at each step.
STEPS = {
    "steady": dict(active="blue"),
    "provisioned": dict(active="blue", standby="provisioned"),
    "flipped": dict(active="green", standby="provisioned"),
    "retired": dict(active="green"),
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, Path]:
    app_config = config_mod.load()
    env = app_config.environment("production")
    root = tmp_path_factory.mktemp("switch")
    found = {}
    for step, blue_green in STEPS.items():
        config = env.config.model_copy(update={"blue_green": BlueGreenConfig(**blue_green)})
        outdir = root / step
        outdir.mkdir()
        app = App(outdir=str(outdir))
        DataStack(app, StackContext(app_config.project, Environment(env.name, env.source, config)), **UPSTREAM)
        app.synth()
        found[step] = outdir
    return found


def review(outputs, base: str, head: str):
    return comparison.compare(loader.load(outputs[base]), loader.load(outputs[head]))


def instances(outdir: Path) -> dict[str, dict]:
    blocks = loader.load(outdir).stacks[STACK].blocks()
    return {body["identifier"]: body for address, body in blocks.items() if address.startswith("aws_db_instance.")}


def test_outside_a_switch_only_the_active_database_exists(outputs):
    assert sorted(instances(outputs["steady"])) == [BLUE]
    assert sorted(instances(outputs["retired"])) == [GREEN]


def test_step_1_provision_is_an_addition_restored_from_the_active_ones_snapshot(outputs):
    result = review(outputs, "steady", "provisioned")
    assert result.risks == []
    [stack] = [s for s in result.stacks if s.changed]
    added = {r.address for r in stack.resources if r.action == "add"}
    assert {r.action for r in stack.resources} == {"add"}
    standby = instances(outputs["provisioned"])[GREEN]
    assert standby["tags"][ROLE_TAG] == "standby" and standby["deletion_protection"] is False
    lookup = standby["snapshot_identifier"].removeprefix("${").removesuffix(".id}")
    assert lookup in added
    source = loader.load(outputs["provisioned"]).stacks[STACK].blocks()[lookup]
    assert source["db_instance_identifier"] == BLUE and source["most_recent"] is True


def test_step_2_verify_changes_nothing(outputs):
    assert not review(outputs, "provisioned", "provisioned").changed


def test_step_3_flip_moves_protection_and_flags_it_as_the_procedures_step(outputs):
    result = review(outputs, "provisioned", "flipped")
    [risk] = result.risks
    assert risk.category == "protection-off"
    assert risk.address.startswith("aws_db_instance.postgres_blue_")
    assert risk.expected_by and "step 3" in risk.expected_by
    [stack] = [s for s in result.stacks if s.changed]
    changes = {r.address: r for r in stack.resources}
    # snapshot_identifier forces a new instance in the provider, but it is in ignore_changes:
    # moving the lookup to the new active colour must replace nothing.
    assert not [r for r in stack.resources if r.action in ("replace", "remove")]
    for address in (a for a in changes if a.startswith("aws_db_instance.")):
        snapshot = [c for c in changes[address].changes if c.path == "snapshot_identifier"]
        assert snapshot and snapshot[0].ignored and not snapshot[0].forces_replacement
    after = instances(outputs["flipped"])
    assert after[GREEN]["deletion_protection"] is True and after[GREEN]["tags"][ROLE_TAG] == "active"
    assert after[BLUE]["deletion_protection"] is False and after[BLUE]["tags"][ROLE_TAG] == "standby"


def test_step_4_retire_is_a_stateful_removal_the_procedure_expects(outputs):
    result = review(outputs, "flipped", "retired")
    [risk] = result.risks
    assert risk.category == "stateful-removed"
    assert risk.address.startswith("aws_db_instance.postgres_blue_")
    assert risk.expected_by and "step 4" in risk.expected_by
    text = render.render_markdown(result)
    # Still in the risk table and in the count: "expected" explains it, it does not hide it.
    assert "**1 risk flagged.** (it is a step of a documented procedure: still check each one.)" in text
    assert "| ⚠️ stateful-removed | data-production |" in text and "**Expected by:** blue/green switch, step 4" in text


def test_destroying_the_active_database_is_never_expected(outputs):
    # Flip and retire in one change (the procedure forbids it): blue is still active in the
    # base when it is destroyed, and RDS would refuse anyway (deletion protection).
    result = review(outputs, "provisioned", "retired")
    removed = [r for r in result.risks if r.category == "stateful-removed"]
    assert [r.address.split(".")[1].split("_")[1] for r in removed] == ["blue"]
    assert removed[0].expected_by is None


def test_cli_prints_the_expected_step(outputs, capsys):
    assert cli.main([str(outputs["flipped"]), str(outputs["retired"]), "--format", "json"]) == 0
    assert '"expected_by": "blue/green switch, step 4: retire the standby' in capsys.readouterr().out

"""The cdktf CLI works from a fresh clone: pinned in the repository, and its synth is ``make synth``'s."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from stacks import FUNCTIONS
from stacks.base import TERRAFORM_REQUIRED_VERSION
from tests.conftest import ROOT, tree_bytes

CLI_VERSION = "0.21.0"


def test_the_cli_is_pinned_exactly_and_installed_from_the_lockfile():
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert package["devDependencies"] == {"cdktf-cli": CLI_VERSION}
    assert lock["packages"][""]["devDependencies"] == {"cdktf-cli": CLI_VERSION}
    assert lock["packages"]["node_modules/cdktf-cli"]["version"] == CLI_VERSION
    # What `npx cdktf` runs: make's install step put the locked release in node_modules/.
    installed = json.loads((ROOT / "node_modules" / "cdktf-cli" / "package.json").read_text())
    assert installed["version"] == CLI_VERSION
    # make installs it before synth and test, and again when the lockfile changes.
    makefile = (ROOT / "Makefile").read_text().splitlines()
    stamp_rule = next(line for line in makefile if line.startswith("$(NODE_STAMP):"))
    assert "package-lock.json" in stamp_rule and "package.json" in stamp_rule
    for target in ("synth", "test"):
        assert f"{target}: $(INSTALLED)" in makefile


def test_cdktf_json_fits_prebuilt_providers():
    """With terraformProviders/terraformModules listed, the CLI demands `cdktf get` bindings and synth fails;
    the app runs as make synth runs it."""
    config = json.loads((ROOT / "cdktf.json").read_text())
    assert config["language"] == "python"
    assert config["app"] == ".venv/bin/python -O main.py"
    assert not {"terraformProviders", "terraformModules", "codeMakerOutput"} & set(config)


def test_npx_cdktf_synth_writes_what_make_synth_writes(cli_synth_outdir: Path, synth_outdir: Path):
    cli = tree_bytes(cli_synth_outdir)
    assert cli.keys() == tree_bytes(synth_outdir).keys()
    assert cli == tree_bytes(synth_outdir)


def test_every_stack_states_the_terraform_it_needs(synth_outdir: Path):
    manifest = json.loads((synth_outdir / "manifest.json").read_text())
    environments = [p.stem for p in (ROOT / "config").glob("*.yaml") if p.stem != "project"]
    assert len(manifest["stacks"]) == 1 + len(FUNCTIONS) * len(environments)
    for name, stack in manifest["stacks"].items():
        config = json.loads((synth_outdir / stack["synthesizedStackPath"]).read_text())
        assert config["terraform"].get("required_version") == TERRAFORM_REQUIRED_VERSION, name
    assert TERRAFORM_REQUIRED_VERSION == ">= 1.11"


def _terraform(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    rc = cwd / "empty.tfrc"
    rc.write_text("")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(rc), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    return subprocess.run(["terraform", *args, "-no-color"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH")
def test_an_older_terraform_stops_with_its_own_message_before_anything_else(synth_outdir: Path, tmp_path: Path):
    """The installed Terraform stands in for an older one: the constraint is raised just above it."""
    installed = json.loads(subprocess.run(["terraform", "version", "-json"], capture_output=True, text=True).stdout)["terraform_version"]
    config = json.loads((synth_outdir / "stacks" / "data-dev" / "cdk.tf.json").read_text())

    accepted = tmp_path / "accepted"
    accepted.mkdir()
    (accepted / "cdk.tf.json").write_text(json.dumps(config))
    result = _terraform(["validate"], accepted)
    assert "Unsupported Terraform Core version" not in result.stderr, f"Terraform {installed} refused {TERRAFORM_REQUIRED_VERSION}"

    too_old = tmp_path / "too-old"
    too_old.mkdir()
    config["terraform"]["required_version"] = f"> {installed}"
    (too_old / "cdk.tf.json").write_text(json.dumps(config))
    result = _terraform(["init", "-backend=false", "-input=false"], too_old)
    assert result.returncode == 1
    assert "Error: Unsupported Terraform Core version" in result.stderr
    assert f"This configuration does not support Terraform version {installed}" in result.stderr
    # It stopped before installing a provider or touching a backend.
    assert not (too_old / ".terraform").exists()

"""The cdktf CLI works from a fresh clone: pinned in the repository, and its synth is ``make synth``'s."""

from __future__ import annotations

import json
from pathlib import Path

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
    # The make step that builds .venv installs it, and reinstalls when the lockfile changes.
    stamp_rule = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("$(STAMP):"))
    assert "package-lock.json" in stamp_rule and "package.json" in stamp_rule


def test_cdktf_json_fits_prebuilt_providers():
    """With terraformProviders/terraformModules listed, the CLI demands `cdktf get` bindings and synth fails."""
    config = json.loads((ROOT / "cdktf.json").read_text())
    assert config["language"] == "python"
    assert config["app"] == ".venv/bin/python main.py"
    assert not {"terraformProviders", "terraformModules", "codeMakerOutput"} & set(config)


def test_npx_cdktf_synth_writes_what_make_synth_writes(cli_synth_outdir: Path, synth_outdir: Path):
    cli = tree_bytes(cli_synth_outdir)
    assert cli.keys() == tree_bytes(synth_outdir).keys()
    assert cli == tree_bytes(synth_outdir)

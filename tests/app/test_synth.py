"""``main.py``: a failed synth exits non-zero with a clear message and leaves the
previous ``cdktf.out/`` exactly as it was; a new environment file adds its stacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cdktf import App

from constructs_lib.errors import ValidationError
from sophia_infra import synth
from tests.config_files import edit
from tests.conftest import ROOT, start_synth, tree_bytes


@pytest.fixture
def previous_output(tmp_path: Path) -> Path:
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "networking-dev").mkdir(parents=True)
    (outdir / "stacks" / "networking-dev" / "cdk.tf.json").write_text('{"last": "good"}')
    (outdir / "manifest.json").write_text("{}")
    return outdir


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    return target


def test_bad_configuration_fails_cleanly_and_keeps_the_last_output(config_dir, previous_output):
    path = edit(config_dir, "dev.yaml", lambda d: d["network"].__setitem__("vpc_cidr", "10.10.0.0/33"))
    before = tree_bytes(previous_output)
    process = start_synth(previous_output, config_dir=config_dir)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 1
    assert f"synth failed: {path}: network.vpc_cidr: invalid CIDR" in stderr
    assert "Traceback" not in stderr
    assert tree_bytes(previous_output) == before
    assert sorted(p.name for p in previous_output.parent.iterdir()) == ["cdktf.out", "config"]


def test_construct_error_during_build_keeps_the_last_output(previous_output, monkeypatch):
    import stacks

    def build_then_fail(app: App, app_config):
        stacks.StateBootstrapStack(app, app_config)
        raise ValidationError("SecureBucket bucket: kms_key_arn is required")

    monkeypatch.setattr(stacks, "build_app", build_then_fail)
    before = tree_bytes(previous_output)
    with pytest.raises(ValidationError):
        synth.synthesize(previous_output)
    assert tree_bytes(previous_output) == before
    assert sorted(p.name for p in previous_output.parent.iterdir()) == ["cdktf.out"]


def test_main_reports_a_user_error_without_traceback(previous_output, monkeypatch, capsys):
    def fail(outdir, config_dir):
        raise ValidationError("naming: OPENSEARCH_DOMAIN name 'x' is 29 characters, over the AWS limit of 28")

    monkeypatch.setattr(synth, "synthesize", fail)
    monkeypatch.setenv("CDKTF_OUTDIR", str(previous_output))
    assert synth.main() == 1
    err = capsys.readouterr().err
    assert "synth failed: naming: OPENSEARCH_DOMAIN name 'x' is 29 characters" in err
    assert f"{previous_output}/ was left unchanged" in err


def test_a_new_environment_file_adds_its_stacks(qa_beside_dev):
    outdir, stdout = qa_beside_dev
    # make synth ends with one line naming the folder, the stacks and environments written.
    written = len(json.loads((outdir / "manifest.json").read_text())["stacks"])
    assert stdout.splitlines()[-1] == f"synth: wrote {outdir}/: {written} stacks, 2 environments (dev, qa)"
    names = {p.name for p in (outdir / "stacks").iterdir()}
    from stacks import FUNCTIONS

    assert {f"{function}-qa" for function in FUNCTIONS} <= names
    assert "networking-dev" in names


def test_help_says_what_it_does_and_reads_and_synthesizes_nothing(tmp_path):
    outdir = tmp_path / "out"
    env = {**os.environ, "CDKTF_OUTDIR": str(outdir)}
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Synthesize every stack of every environment" in result.stdout
    for variable in ("CDKTF_OUTDIR", "SOPHIA_CONFIG_DIR", "SOPHIA_EAGER_PROVIDERS"):
        assert variable in result.stdout
    assert not outdir.exists() and list(tmp_path.iterdir()) == []


def test_missing_node_is_one_line_naming_it(tmp_path, previous_output):
    env = {**os.environ, "CDKTF_OUTDIR": str(previous_output), "PATH": "/nonexistent"}
    result = subprocess.run([sys.executable, str(ROOT / "main.py")], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "synth failed: node not found on PATH: install Node.js 20 or later (https://nodejs.org/); "
        "jsii runs the cdktf libraries on it"
    )


def test_a_secret_in_the_synthesized_output_is_refused_without_repeating_it(previous_output, monkeypatch):
    import stacks
    from constructs_lib.providers import aws

    key = "AKIA" + "Q3EXAMPLE7KEY2ID"

    def build_with_a_key(app: App, app_config):
        stack = stacks.StateBootstrapStack(app, app_config)
        aws.ssm_parameter.SsmParameter(stack, "ci-key", name="/sophia/ci/key", type="String", value=key)

    monkeypatch.setattr(stacks, "build_app", build_with_a_key)
    before = tree_bytes(previous_output)
    with pytest.raises(ValidationError) as info:
        synth.synthesize(previous_output)
    message = str(info.value)
    assert "stacks/state-bootstrap/cdk.tf.json: resource.aws_ssm_parameter." in message
    assert ".value: looks like an AWS access key id (value AKIA…[REDACTED, 20 chars])" in message
    assert key not in message
    assert tree_bytes(previous_output) == before
    assert sorted(p.name for p in previous_output.parent.iterdir()) == ["cdktf.out"]

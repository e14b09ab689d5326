"""make validate and make check: the parts that decide pass/fail, on small synthetic stacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sophia_infra import security_check, terraform_cli, validate
from tests import background
from tests.conftest import ROOT

AWS = terraform_cli.Provider("registry.terraform.io/hashicorp/aws", "5.100.0")


def write_stack(outdir: Path, name: str, config: dict) -> Path:
    path = outdir / "stacks" / name / "cdk.tf.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(config))
    return path


def requiring(**providers: tuple[str, str]) -> dict:
    return {"terraform": {"required_providers": {n: {"source": s, "version": v} for n, (s, v) in providers.items()}}}


# --- validate -------------------------------------------------------------------------


def test_provider_addresses_are_normalized_like_terraform():
    assert terraform_cli.provider_address("aws") == "registry.terraform.io/hashicorp/aws"
    assert terraform_cli.provider_address("hashicorp/Kubernetes") == "registry.terraform.io/hashicorp/kubernetes"
    assert terraform_cli.provider_address("example.com/acme/thing") == "example.com/acme/thing"


def test_required_providers_read_like_terraform_reads_them():
    config = requiring(kubernetes=("hashicorp/kubernetes", "2.38.0"), aws=("aws", "5.100.0"))
    config["terraform"]["required_providers"]["random"] = {}  # no source: hashicorp/<name>
    P = terraform_cli.Provider
    assert terraform_cli.required_providers(config) == [
        P("registry.terraform.io/hashicorp/aws", "5.100.0"),
        P("registry.terraform.io/hashicorp/kubernetes", "2.38.0"),
        P("registry.terraform.io/hashicorp/random", ""),
    ]
    assert terraform_cli.required_providers({}) == []


def test_mirror_listing_and_cli_config(tmp_path):
    binary = tmp_path / "mirror/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/terraform-provider-aws_v5.100.0_x5"
    binary.parent.mkdir(parents=True)
    binary.write_text("")
    assert terraform_cli.mirror_providers(tmp_path / "mirror") == {AWS}
    rc = terraform_cli.write_cli_config(tmp_path / "terraform.rc", tmp_path / "mirror", tmp_path / "cache").read_text()
    assert f'path    = "{(tmp_path / "mirror").resolve()}"' in rc
    assert 'include = ["registry.terraform.io/hashicorp/aws"]' in rc
    assert 'exclude = ["registry.terraform.io/hashicorp/aws"]' in rc
    assert f'plugin_cache_dir = "{(tmp_path / "cache").resolve()}"' in rc


def test_explicit_mirror_without_providers_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(terraform_cli.MIRROR_ENV, str(tmp_path))
    with pytest.raises(terraform_cli.TerraformSetupError, match="holds no provider"):
        terraform_cli.find_mirror()


def test_stack_with_a_provider_missing_from_the_mirror_is_skipped_by_name(tmp_path):
    stack = write_stack(tmp_path, "ai-workloads-dev", requiring(aws=("aws", "5.100.0"), kubernetes=("hashicorp/kubernetes", "2.38.0")))
    result = validate.init_stack(stack.parent, tmp_path / "work", {}, {AWS})
    assert result.status == "skipped"
    assert result.messages == ["hashicorp/kubernetes 2.38.0 not in the provider mirror"]


def test_binding_and_provider_version_mismatch_is_an_error_not_a_skip(tmp_path):
    stack = write_stack(tmp_path, "networking-dev", requiring(aws=("aws", "6.0.0")))
    result = validate.init_stack(stack.parent, tmp_path / "work", {}, {AWS})
    assert result.status == "invalid"
    assert "requires hashicorp/aws 6.0.0 but the mirror has 5.100.0" in result.messages[0]


def test_validate_diagnostics_keep_summary_location_and_detail():
    output = json.dumps(
        {
            "valid": False,
            "diagnostics": [
                {"severity": "warning", "summary": "Deprecated"},
                {
                    "severity": "error",
                    "summary": "Missing required argument",
                    "detail": 'The argument "bucket" is required,\n but no definition was found.',
                    "range": {"filename": "cdk.tf.json", "start": {"line": 12}},
                },
            ],
        }
    )
    assert validate._diagnostics(output) == [
        'Missing required argument (cdk.tf.json:12): The argument "bucket" is required, but no definition was found.'
    ]


def _terraform_here() -> bool:
    try:
        terraform_cli.terraform_binary()
        return bool(terraform_cli.find_mirror())
    except terraform_cli.TerraformSetupError:
        return False


@background.early()
def broken_stack_validated(folder: Path) -> subprocess.CompletedProcess[str]:
    """``python -m sophia_infra.validate`` (terraform init and validate) over an output
    holding one stack that lacks a required argument, run in ``folder``."""
    config = requiring(aws=("aws", "5.100.0"))
    config["provider"] = {"aws": [{"region": "us-west-2"}]}
    config["resource"] = {"aws_s3_bucket_versioning": {"v": {"versioning_configuration": {"status": "Enabled"}}}}
    write_stack(folder / "out", "broken-dev", config)
    command = [sys.executable, "-m", "sophia_infra.validate", "--outdir", str(folder / "out"), "--jobs", "1"]
    return background.run(command, check=False, cwd=folder)


@pytest.mark.skipif(not _terraform_here(), reason="needs terraform and the aws provider mirror")
def test_an_invalid_stack_fails_validate_with_its_name_and_terraform_message(broken_stack_validated):
    result = broken_stack_validated
    assert result.returncode == 1, result.stderr
    assert "ERROR    broken-dev: Missing required argument" in result.stdout
    assert '"bucket"' in result.stdout
    assert "0 valid, 1 invalid, 0 not validated" in result.stdout


# --- check ----------------------------------------------------------------------------


def test_nulls_are_stripped_recursively_so_checkov_sees_open_rules():
    rule = {"cidr_blocks": ["0.0.0.0/0"], "prefix_list_ids": None, "nested": [{"a": None, "b": 1}, None]}
    assert security_check.strip_nulls(rule) == {"cidr_blocks": ["0.0.0.0/0"], "nested": [{"b": 1}]}


def test_the_scanned_copy_keeps_no_scalar_in_the_terraform_block(synth_outdir):
    # checkov 3's terraform_json parser fails on the whole file (and exits 0) when a member
    # of the terraform block is not an object: every stack states required_version.
    for source in sorted(synth_outdir.glob("stacks/*/cdk.tf.json")):
        config = json.loads(source.read_text())
        assert config["terraform"]["required_version"], source.parent.name
        scanned = security_check.for_checkov(config)
        assert all(isinstance(v, dict) for v in scanned["terraform"].values()), source.parent.name
        assert scanned["terraform"].get("backend") == security_check.strip_nulls(config["terraform"].get("backend"))
        assert scanned["resource"] == security_check.strip_nulls(config["resource"])


def test_justifications_need_a_reason_and_keep_their_scope(tmp_path):
    config = tmp_path / ".checkov.yaml"
    config.write_text(
        "framework:\n  - terraform_json\nskip-check:\n"
        "  # reason: dev is single-AZ by configuration\n  # scope: data-dev, *-staging/*green*\n  - CKV_AWS_157\n"
        "  # reason: a reason that goes on\n  # over two lines\n  - CKV_AWS_18\n"
        "compact: true\n"
    )
    first, second = security_check.load_justifications(config)
    assert (first.check_id, first.scopes) == ("CKV_AWS_157", ("data-dev", "*-staging/*green*"))
    assert first.covers("CKV_AWS_157", "data-dev", "resource.postgres_blue")
    assert first.covers("CKV_AWS_157", "data-staging", "resource.postgres_green_instance")
    assert not first.covers("CKV_AWS_157", "data-production", "resource.postgres_green_instance")
    assert second.reason == "a reason that goes on over two lines" and second.covers("CKV_AWS_18", "any", "x")

    config.write_text("skip-check:\n  - CKV_AWS_18\n")
    with pytest.raises(security_check.CheckError, match="CKV_AWS_18 has no '# reason:'"):
        security_check.load_justifications(config)


def _report(failed, passed=(), parsing_errors=()):
    return {
        "check_type": "terraform_json",
        "summary": {"parsing_errors": len(parsing_errors)},
        "results": {
            "passed_checks": [{"check_id": c, "file_path": f"/{s}/cdk.tf.json", "resource": r} for s, r, c in passed],
            "failed_checks": [{"check_id": c, "file_path": f"/{s}/cdk.tf.json", "resource": r} for s, r, c in failed],
            "parsing_errors": list(parsing_errors),
        },
    }


def test_classify_counts_per_stack_and_fails_only_unjustified_findings():
    justified = [security_check.Justification("CKV_AWS_157", "dev is single-AZ", ("data-dev",), 1)]
    report = _report(
        failed=[("data-dev", "resource.db", "CKV_AWS_157"), ("data-production", "resource.db", "CKV_AWS_157")],
        passed=[("data-dev", "resource.db", "CKV_AWS_16")],
    )
    counts, failures, skipped, unused, _ = security_check.classify(report, ["data-dev", "data-production"], justified)
    assert counts == {
        "data-dev": {"passed": 1, "failed": 0, "skipped": 1},
        "data-production": {"passed": 0, "failed": 1, "skipped": 0},
    }
    assert [f[:3] for f in failures] == [("data-production", "resource.db", "CKV_AWS_157")]
    assert unused == []


def test_parsing_errors_fail_the_check_although_checkov_exits_zero():
    report = _report(failed=[], parsing_errors=["/data-dev/cdk.tf.json"])
    with pytest.raises(security_check.CheckError, match="could not parse 1 file"):
        security_check.classify(report, ["data-dev"], [])


def test_stage_refuses_an_empty_output_directory(tmp_path):
    with pytest.raises(security_check.CheckError, match="run `make synth` first"):
        security_check.stage(tmp_path, tmp_path / "scan")


def test_the_repository_skip_file_parses_and_every_skip_has_a_reason():
    root = ROOT
    justifications = security_check.load_justifications(root / ".checkov.yaml")
    assert justifications and all(j.reason for j in justifications)

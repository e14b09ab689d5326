"""Adopting existing resources: ``imports:`` entries become Terraform ``import`` blocks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cdktf import App, TerraformStack
from cdktf import Testing as CdktfTesting  # not collected as a test class

import sophia_config as config_mod
from constructs_lib.providers import aws
from constructs_lib.storage.secure_bucket import SecureBucket, SecureBucketProps
from sophia_config.sections.imports import ExistingResource
from sophia_infra.review import comparison, loader
from stacks import build_app
from stacks.adopt import adopt
from tests.conftest import dump_yaml, load_yaml

KEY = "arn:aws:kms:us-west-2:111111111111:key/11111111-2222-3333-4444-555555555555"
ROOT = Path(__file__).resolve().parents[2]


def data_stack(app) -> TerraformStack:
    stack = TerraformStack(app, "data-dev")
    aws.provider.AwsProvider(stack, "aws", region="us-west-2")
    SecureBucket(stack, "models", SecureBucketProps(bucket_name="sophia-models-dev", kms_key_arn=KEY))
    aws.iam_role.IamRole(stack, "reader", name="sophia-data-reader-dev", assume_role_policy="{}")
    return stack


def test_bucket_and_role_become_import_blocks():
    stack = data_stack(CdktfTesting.app())
    problems = adopt(
        {"data": stack},
        [
            ExistingResource(stack="data", path="models/bucket", id="sophia-models-dev"),
            ExistingResource(stack="data", path="reader", id="sophia-data-reader-dev"),
        ],
        "config/dev.yaml",
    )
    assert problems == []
    synthesized = json.loads(CdktfTesting.synth(stack))
    imports = {item["to"].split(".")[0]: item["id"] for item in synthesized["import"]}
    assert imports == {"aws_s3_bucket": "sophia-models-dev", "aws_iam_role": "sophia-data-reader-dev"}
    # The import targets the very resource the construct configures.
    (bucket_name,) = synthesized["resource"]["aws_s3_bucket"]
    assert {"to": f"aws_s3_bucket.{bucket_name}", "id": "sophia-models-dev"} in synthesized["import"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            ExistingResource(stack="data", path="models/bukket", id="x"),
            "config/dev.yaml: imports.0.path: no construct 'bukket' under 'data-dev/models' (children: bucket, encryption,",
        ),
        (
            ExistingResource(stack="data", path="models", id="x"),
            "config/dev.yaml: imports.0.path: 'data-dev/models' is a SecureBucket, not a resource (children: bucket,",
        ),
        (
            ExistingResource(stack="data", path="models/policy-document", id="x"),
            "is a DataAwsIamPolicyDocument, not a resource",
        ),
        (ExistingResource(stack="storage", path="models/bucket", id="x"), "imports.0.stack: unknown function stack 'storage' (known: data)"),
    ],
)
def test_unknown_paths_are_configuration_errors(entry, message):
    stack = data_stack(CdktfTesting.app())
    (problem,) = adopt({"data": stack}, [entry], "config/dev.yaml")
    assert message in problem


def test_duplicate_entries_are_rejected():
    stack = data_stack(CdktfTesting.app())
    entry = ExistingResource(stack="data", path="reader", id="sophia-data-reader-dev")
    (problem,) = adopt({"data": stack}, [entry, entry], "config/dev.yaml")
    assert "imports.1: data/reader is already imported by imports.0" in problem


def test_imports_entry_is_validated_by_the_config_model():
    with pytest.raises(ValueError, match="path"):
        ExistingResource.model_validate({"stack": "data", "path": "/models//bucket", "id": "x"})
    with pytest.raises(ValueError, match="extra"):
        ExistingResource.model_validate({"stack": "data", "path": "models/bucket", "id": "x", "construct": "y"})


@pytest.fixture
def config_dir(tmp_path) -> Path:
    # One environment is enough to adopt a resource, and a third of the build time.
    target = tmp_path / "config"
    target.mkdir()
    for name in ("project.yaml", "dev.yaml"):
        shutil.copy(ROOT / "config" / name, target / name)
    return target


def _add_imports(config_dir: Path, entries: list[dict]) -> None:
    path = config_dir / "dev.yaml"
    data = load_yaml(path.read_text())
    data["imports"] = entries
    path.write_text(dump_yaml(data, sort_keys=False))


def test_the_app_adopts_config_imports_and_review_reports_them(config_dir, tmp_path):
    """End to end through the real app: a KMS key of the security stack listed under ``imports:``."""
    before = tmp_path / "before"
    before.mkdir()
    app = App(outdir=str(before / "cdktf.out"))
    build_app(app, config_mod.load(config_dir))
    app.synth()
    key_path = next(
        body["//"]["metadata"]["path"]
        for body in json.loads((before / "cdktf.out/stacks/security-dev/cdk.tf.json").read_text())["resource"]["aws_kms_key"].values()
    )
    _add_imports(config_dir, [{"stack": "security", "path": key_path.removeprefix("security-dev/"), "id": "1234abcd-12ab-34cd-56ef-1234567890ab"}])
    after = tmp_path / "after"
    after.mkdir()
    app = App(outdir=str(after / "cdktf.out"))
    build_app(app, config_mod.load(config_dir))
    app.synth()
    result = comparison.compare(loader.load(before / "cdktf.out"), loader.load(after / "cdktf.out"))
    assert result.changed_stacks == ["security-dev"]
    # The key existed in both outputs: adopting it changes no attribute, it only adds the import block.
    doc = json.loads((after / "cdktf.out/stacks/security-dev/cdk.tf.json").read_text())
    assert [i["id"] for i in doc["import"]] == ["1234abcd-12ab-34cd-56ef-1234567890ab"]
    assert not result.risks


def test_the_app_rejects_an_unknown_import_path(config_dir):
    _add_imports(config_dir, [{"stack": "security", "path": "no/such/key", "id": "x"}])
    with pytest.raises(config_mod.ConfigError) as exc:
        build_app(App(outdir=str(config_dir.parent / "out")), config_mod.load(config_dir))
    assert "dev.yaml: imports.0.path: no construct 'no' under 'security-dev'" in str(exc.value)

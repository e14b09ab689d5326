"""ModelRegistry: immutable, scanned, encrypted images; archived artifacts; least-privilege grants."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting  # not "Testing": pytest would try to collect it

from constructs_lib.ai.model_registry import ModelRegistry
from constructs_lib.ai.model_registry_props import ModelRegistryProps, RegistryRetention
from constructs_lib.errors import ValidationError

KEY = "arn:aws:kms:us-west-2:111111111111:key/data"
PROPS = ModelRegistryProps(
    repository_name="sophia-ai-models-dev",
    bucket_name="sophia-ai-model-artifacts-dev",
    kms_key_arn=KEY,
    release_tag_prefixes=("bert-base-", "gpt-j-"),
    retention=RegistryRetention(
        keep_last_releases=10,
        untagged_image_expiry_days=7,
        artifacts_glacier_days=90,
        artifacts_noncurrent_glacier_days=30,
        artifacts_noncurrent_expiry_days=180,
    ),
)


def synth(props: ModelRegistryProps = PROPS, grants: tuple[str, ...] = ()) -> dict:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    registry = ModelRegistry(stack, "registry", props)
    for grant in grants:
        getattr(registry, f"grant_{grant}")(grant.replace("_", "-"), f"{grant}-role")
    return json.loads(CdktfTesting.synth(stack))


def only(resources: dict) -> dict:
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.values()))


def policy_for(out: dict, role: str) -> dict:
    """The policy document (data source) attached to ``role`` by a grant."""
    policy = next(p for p in out["resource"]["aws_iam_role_policy"].values() if p["role"] == role)
    ref = policy["policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
    return out["data"]["aws_iam_policy_document"][ref]


@pytest.fixture(scope="module")
def registry() -> dict:
    return synth(grants=("pull", "push", "read_artifacts"))


def test_repository_is_immutable_scanned_and_kms_encrypted(registry):
    repo = only(registry["resource"]["aws_ecr_repository"])
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["image_scanning_configuration"] == {"scan_on_push": True}
    assert repo["encryption_configuration"] == [{"encryption_type": "KMS", "kms_key": KEY}]
    assert "force_delete" not in repo


def test_lifecycle_expires_untagged_first_then_keeps_last_n_per_model(registry):
    policy = json.loads(only(registry["resource"]["aws_ecr_lifecycle_policy"])["policy"])
    rules = policy["rules"]
    assert [r["rulePriority"] for r in rules] == [1, 2, 3]
    assert rules[0]["selection"] == {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 7,
    }
    assert [r["selection"]["tagPrefixList"] for r in rules[1:]] == [["bert-base-"], ["gpt-j-"]]
    for rule in rules[1:]:
        assert rule["selection"]["tagStatus"] == "tagged"
        assert rule["selection"]["countType"] == "imageCountMoreThan"
        assert rule["selection"]["countNumber"] == 10
    assert all(r["action"] == {"type": "expire"} for r in rules)


def test_artifacts_bucket_archives_models_prefix_and_noncurrent_versions(registry):
    lifecycle = only(registry["resource"]["aws_s3_bucket_lifecycle_configuration"])
    rule = next(r for r in lifecycle["rule"] if r["id"] == "archive-models")
    assert rule["filter"] == [{"prefix": "models/"}]
    assert rule["transition"] == [{"days": 90, "storage_class": "GLACIER"}]
    assert rule["noncurrent_version_transition"] == [{"noncurrent_days": 30, "storage_class": "GLACIER"}]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 180}]
    sse = only(registry["resource"]["aws_s3_bucket_server_side_encryption_configuration"])
    assert sse["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"] == KEY
    assert only(registry["resource"]["aws_s3_bucket_versioning"])["versioning_configuration"]["status"] == "Enabled"


def test_pull_grant_is_scoped_to_the_repository(registry):
    doc = policy_for(registry, "pull-role")
    by_sid = {s["sid"]: s for s in doc["statement"]}
    assert set(by_sid) == {"EcrLogin", "PullModelImages"}
    # GetAuthorizationToken is the only action on "*" (it has no resource-level permissions).
    assert by_sid["EcrLogin"] == {"sid": "EcrLogin", "effect": "Allow", "actions": ["ecr:GetAuthorizationToken"], "resources": ["*"]}
    repo_key = only(registry["resource"]["aws_ecr_repository"]) and next(iter(registry["resource"]["aws_ecr_repository"]))
    assert by_sid["PullModelImages"]["resources"] == [f"${{aws_ecr_repository.{repo_key}.arn}}"]
    assert not any(a.startswith("ecr:Put") or "Upload" in a for a in by_sid["PullModelImages"]["actions"])


def test_push_grant_cannot_delete_or_reconfigure(registry):
    doc = policy_for(registry, "push-role")
    actions = {a for s in doc["statement"] for a in s["actions"]}
    assert {"ecr:PutImage", "ecr:CompleteLayerUpload", "s3:PutObject"} <= actions
    assert not any("Delete" in a or a.endswith("*") or a.startswith("ecr:Set") for a in actions)
    wildcard = [s for s in doc["statement"] if "*" in s["resources"]]
    assert [s["actions"] for s in wildcard] == [["ecr:GetAuthorizationToken"]]


def test_artifact_read_grant_has_no_wildcard_resources(registry):
    doc = policy_for(registry, "read_artifacts-role")
    assert all("*" not in s["resources"] for s in doc["statement"])
    assert {a for s in doc["statement"] for a in s["actions"]} == {
        "s3:ListBucket", "s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt"
    }


def test_kms_use_is_limited_to_requests_through_s3(registry):
    region = next(iter(registry["data"]["aws_region"]))
    for role in ("read_artifacts-role", "push-role"):
        kms = [s for s in policy_for(registry, role)["statement"] if s["actions"][0].startswith("kms:")]
        assert kms and all(s["resources"] == [KEY] for s in kms)
        for statement in kms:
            assert statement["condition"] == [
                {"test": "StringEquals", "variable": "kms:ViaService", "values": [f"s3.${{data.aws_region.{region}.name}}.amazonaws.com"]}
            ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"repository_name": "Sophia_Models"}, "ECR_REPOSITORY name 'Sophia_Models' is invalid"),
        ({"kms_key_arn": ""}, "kms_key_arn must be a KMS key ARN"),
        ({"release_tag_prefixes": ("gpt-", "gpt-j-")}, "prefix 'gpt-' also matches 'gpt-j-'"),
    ],
)
def test_invalid_props_are_rejected_with_the_value(change, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ModelRegistry(TerraformStack(CdktfTesting.app(), "test"), "registry", replace(PROPS, **change))


def test_a_grant_is_named_after_its_grantee_not_after_the_order_of_calls():
    # Removing a grantee must leave every other grant's address (and so its role policy) alone.
    def addresses(grantees: tuple[str, ...]) -> dict[str, str]:
        stack = TerraformStack(CdktfTesting.app(), "test")
        registry = ModelRegistry(stack, "registry", PROPS)
        for grantee in grantees:
            registry.grant_read_artifacts(grantee, f"{grantee}-role")
        policies = json.loads(CdktfTesting.synth(stack))["resource"]["aws_iam_role_policy"]
        return {policy["role"]: key for key, policy in policies.items()}

    both = addresses(("model-a", "model-b"))
    assert addresses(("model-b",)) == {"model-b-role": both["model-b-role"]}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"keep_last_releases": 0}, "RegistryRetention: keep_last_releases must be an integer 1..10000, got 0"),
        ({"untagged_image_expiry_days": 366}, "RegistryRetention: untagged_image_expiry_days must be an integer 1..365, got 366"),
        ({"artifacts_glacier_days": 0}, "RegistryRetention: artifacts_glacier_days must be an integer >= 1, got 0"),
        (
            {"artifacts_noncurrent_glacier_days": 30, "artifacts_noncurrent_expiry_days": 30},
            "artifacts_noncurrent_expiry_days (30) must be greater than artifacts_noncurrent_glacier_days (30)",
        ),
    ],
)
def test_retention_refuses_what_would_expire_too_soon_or_never_with_the_value(values, message):
    with pytest.raises(ValidationError) as error:
        RegistryRetention(**values)
    assert message in str(error.value)

"""SecureBucket: the security invariants every bucket of the project inherits."""

from __future__ import annotations

import json

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.errors import ValidationError
from constructs_lib.security.policy import Principal, Statement
from constructs_lib.storage.secure_bucket import LifecycleRule, SecureBucket, SecureBucketProps, Transition

KEY = "arn:aws:kms:us-west-2:111111111111:key/data"


def synth(*props: SecureBucketProps, grant: str | None = None) -> dict:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    for index, p in enumerate(props):
        bucket = SecureBucket(stack, f"bucket{index}", p)
        if grant == "read":
            bucket.grant_read("reader", "reader-role")
        elif grant == "read_write":
            bucket.grant_read_write("writer", "writer-role")
    return json.loads(CdktfTesting.synth(stack))


def only(resources: dict) -> dict:
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.values()))


def statements(doc: dict, sid: str) -> dict:
    return next(s for s in doc["statement"] if s.get("sid") == sid)


@pytest.fixture(scope="module")
def default_bucket() -> dict:
    return synth(SecureBucketProps(bucket_name="sophia-test-bucket-dev", kms_key_arn=KEY))


def test_all_four_public_access_block_flags(default_bucket):
    pab = only(default_bucket["resource"]["aws_s3_bucket_public_access_block"])
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert pab[flag] is True, flag


def test_acls_disabled(default_bucket):
    ownership = only(default_bucket["resource"]["aws_s3_bucket_ownership_controls"])
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"


def test_sse_kms_with_bucket_key(default_bucket):
    sse = only(default_bucket["resource"]["aws_s3_bucket_server_side_encryption_configuration"])
    rule = sse["rule"][0]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY}
    assert rule["bucket_key_enabled"] is True


def test_bucket_key_can_be_turned_off_for_per_object_encryption_context():
    out = synth(SecureBucketProps(bucket_name="sophia-test-bucket-dev", kms_key_arn=KEY, bucket_key_enabled=False))
    sse = only(out["resource"]["aws_s3_bucket_server_side_encryption_configuration"])
    assert sse["rule"][0]["bucket_key_enabled"] is False
    assert sse["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"


def test_versioning_on_by_default(default_bucket):
    versioning = only(default_bucket["resource"]["aws_s3_bucket_versioning"])
    assert versioning["versioning_configuration"]["status"] == "Enabled"


def test_policy_denies_plain_http_and_old_tls(default_bucket):
    doc = only(default_bucket["data"]["aws_iam_policy_document"])
    insecure = statements(doc, "DenyInsecureTransport")
    assert insecure["effect"] == "Deny"
    assert insecure["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]
    old_tls = statements(doc, "DenyOutdatedTls")
    assert old_tls["effect"] == "Deny"
    assert old_tls["condition"] == [{"test": "NumericLessThan", "variable": "s3:TlsVersion", "values": ["1.2"]}]
    for st in (insecure, old_tls):
        # Both the bucket and its objects, for every principal.
        assert len(st["resources"]) == 2 and st["resources"][1].endswith("/*")
        assert st["principals"] == [{"type": "*", "identifiers": ["*"]}]


def test_policy_ordered_after_public_access_block(default_bucket):
    policy = only(default_bucket["resource"]["aws_s3_bucket_policy"])
    assert any("aws_s3_bucket_public_access_block" in dep for dep in policy["depends_on"])


def test_lifecycle_has_explicit_filter_and_follows_versioning(default_bucket):
    lifecycle = only(default_bucket["resource"]["aws_s3_bucket_lifecycle_configuration"])
    assert any("aws_s3_bucket_versioning" in dep for dep in lifecycle["depends_on"])
    for rule in lifecycle["rule"]:
        assert rule["filter"], rule
        assert rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"] == 7
    assert lifecycle["rule"][0]["noncurrent_version_expiration"][0]["noncurrent_days"] == 90


def test_no_force_destroy_by_default(default_bucket):
    bucket = only(default_bucket["resource"]["aws_s3_bucket"])
    assert bucket["force_destroy"] is False


def test_every_bucket_in_a_multi_bucket_stack_is_locked_down():
    out = synth(
        SecureBucketProps(bucket_name="sophia-a-bucket-dev", kms_key_arn=KEY),
        SecureBucketProps(bucket_name="sophia-b-bucket-dev", sse_algorithm="AES256", lifecycle_rules=()),
    )
    buckets = out["resource"]["aws_s3_bucket"]
    assert len(buckets) == 2
    assert len(out["resource"]["aws_s3_bucket_public_access_block"]) == 2
    assert len(out["resource"]["aws_s3_bucket_policy"]) == 2
    # AES256 where asked: no KMS key and no bucket key.
    sse = [r["rule"][0] for r in out["resource"]["aws_s3_bucket_server_side_encryption_configuration"].values()]
    assert sorted(r["apply_server_side_encryption_by_default"]["sse_algorithm"] for r in sse) == ["AES256", "aws:kms"]
    # No lifecycle rules asked: no lifecycle resource.
    assert len(out["resource"]["aws_s3_bucket_lifecycle_configuration"]) == 1


def test_lifecycle_transitions_rendered():
    rule = LifecycleRule(
        id="archive",
        prefix="logs/",
        transitions=(Transition(30, "STANDARD_IA"), Transition(90, "GLACIER")),
        noncurrent_transitions=(Transition(30, "GLACIER_IR"),),
        noncurrent_expiration_days=60,
        expiration_days=365,
    )
    out = synth(SecureBucketProps(bucket_name="sophia-c-bucket-dev", kms_key_arn=KEY, lifecycle_rules=(rule,)))
    rendered = only(out["resource"]["aws_s3_bucket_lifecycle_configuration"])["rule"][0]
    assert rendered["filter"] == [{"prefix": "logs/"}]
    assert [t["storage_class"] for t in rendered["transition"]] == ["STANDARD_IA", "GLACIER"]
    assert rendered["noncurrent_version_transition"][0] == {"noncurrent_days": 30, "storage_class": "GLACIER_IR"}
    assert rendered["expiration"][0]["days"] == 365


def test_access_logging():
    out = synth(
        SecureBucketProps(
            bucket_name="sophia-d-bucket-dev", kms_key_arn=KEY, access_log_bucket="sophia-logs-bucket-dev"
        )
    )
    logging = only(out["resource"]["aws_s3_bucket_logging"])
    assert logging["target_bucket"] == "sophia-logs-bucket-dev"
    assert logging["target_prefix"] == "sophia-d-bucket-dev/"


def test_extra_statements_are_appended_after_tls_denies():
    extra = Statement(
        sid="ServiceWrite",
        actions=("s3:PutObject",),
        resources=("arn:aws:s3:::sophia-e-bucket-dev/*",),
        principals=(Principal("Service", ("logging.s3.amazonaws.com",)),),
    )
    out = synth(SecureBucketProps(bucket_name="sophia-e-bucket-dev", kms_key_arn=KEY, extra_policy_statements=(extra,)))
    doc = only(out["data"]["aws_iam_policy_document"])
    assert [s["sid"] for s in doc["statement"]] == ["DenyInsecureTransport", "DenyOutdatedTls", "ServiceWrite"]


def test_prevent_destroy_sets_lifecycle():
    out = synth(SecureBucketProps(bucket_name="sophia-f-bucket-dev", kms_key_arn=KEY, prevent_destroy=True))
    assert only(out["resource"]["aws_s3_bucket"])["lifecycle"] == {"prevent_destroy": True}


def grant_document(out: dict) -> dict:
    return next(d for name, d in out["data"]["aws_iam_policy_document"].items() if "grant" in name)


def test_grant_read_is_least_privilege():
    out = synth(SecureBucketProps(bucket_name="sophia-g-bucket-dev", kms_key_arn=KEY), grant="read")
    policy = only(out["resource"]["aws_iam_role_policy"])
    assert policy["role"] == "reader-role"
    assert policy["name"] == "s3-read-sophia-g-bucket-dev"
    doc = grant_document(out)
    actions = {a for s in doc["statement"] for a in s["actions"]}
    assert actions == {"s3:ListBucket", "s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt"}
    bucket_arn = "${aws_s3_bucket.bucket0_bucket_%s.arn}" % next(iter(out["resource"]["aws_s3_bucket"])).rsplit("_", 1)[1]
    assert statements(doc, "ListBucket")["resources"] == [bucket_arn]
    assert statements(doc, "ReadObjects")["resources"] == [f"{bucket_arn}/*"]
    assert statements(doc, "DecryptObjects")["resources"] == [KEY]


def test_key_use_is_limited_to_requests_through_s3():
    # The data key is shared with other stores: a grantee may not decrypt their data directly.
    out = synth(SecureBucketProps(bucket_name="sophia-g-bucket-dev", kms_key_arn=KEY), grant="read_write")
    region = next(iter(out["data"]["aws_region"]))
    doc = grant_document(out)
    for sid in ("DecryptObjects", "EncryptObjects"):
        assert statements(doc, sid)["condition"] == [
            {"test": "StringEquals", "variable": "kms:ViaService", "values": [f"s3.${{data.aws_region.{region}.name}}.amazonaws.com"]}
        ]


def test_grant_read_write_can_encrypt_and_delete():
    out = synth(SecureBucketProps(bucket_name="sophia-h-bucket-dev", kms_key_arn=KEY), grant="read_write")
    doc = grant_document(out)
    assert statements(doc, "EncryptObjects")["actions"] == ["kms:GenerateDataKey"]
    assert set(statements(doc, "WriteObjects")["actions"]) == {"s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"}


def test_an_sse_s3_bucket_grants_no_key_use():
    out = synth(SecureBucketProps(bucket_name="sophia-i-bucket-dev", sse_algorithm="AES256"), grant="read_write")
    actions = {a for s in grant_document(out)["statement"] for a in s["actions"]}
    assert not any(a.startswith("kms:") for a in actions)
    assert "aws_region" not in out.get("data", {})


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (SecureBucketProps(bucket_name="sophia-x-bucket-dev"), "kms_key_arn is required"),
        (SecureBucketProps(bucket_name="sophia-x-bucket-dev", sse_algorithm="AES256", kms_key_arn=KEY), "ignored"),
        (
            SecureBucketProps(bucket_name="sophia-x-bucket-dev", kms_key_arn=KEY, sse_algorithm="aws:kms:dsse"),
            "sse_algorithm",
        ),
        (
            SecureBucketProps(
                bucket_name="sophia-x-bucket-dev", kms_key_arn=KEY, force_destroy=True, prevent_destroy=True
            ),
            "exclude each other",
        ),
        (
            SecureBucketProps(
                bucket_name="sophia-x-bucket-dev",
                kms_key_arn=KEY,
                lifecycle_rules=(LifecycleRule(id="a", transitions=(Transition(10, "STANDARD_IA"),)),),
            ),
            "STANDARD_IA must be >= 30, got 10",
        ),
        (
            SecureBucketProps(
                bucket_name="sophia-x-bucket-dev",
                kms_key_arn=KEY,
                lifecycle_rules=(LifecycleRule(id="a", transitions=(Transition(10, "TAPE"),)),),
            ),
            "unknown storage class 'TAPE'",
        ),
        (
            SecureBucketProps(
                bucket_name="sophia-x-bucket-dev",
                kms_key_arn=KEY,
                lifecycle_rules=(LifecycleRule(id="a", transitions=(Transition(90, "GLACIER"),), expiration_days=60),),
            ),
            "expiration_days must be after the last transition (90 days), got 60",
        ),
        (
            SecureBucketProps(
                bucket_name="sophia-x-bucket-dev",
                kms_key_arn=KEY,
                lifecycle_rules=(LifecycleRule(id="a"), LifecycleRule(id="a")),
            ),
            "duplicates ['a']",
        ),
        (
            SecureBucketProps(
                bucket_name="sophia-x-bucket-dev",
                kms_key_arn=KEY,
                lifecycle_rules=(LifecycleRule(id="a", abort_incomplete_multipart_upload_days=0),),
            ),
            "abort_incomplete_multipart_upload_days must be >= 1, got 0",
        ),
        (SecureBucketProps(bucket_name="Sophia_Bad", kms_key_arn=KEY), "S3_BUCKET name 'Sophia_Bad' is invalid"),
    ],
)
def test_validation_names_the_argument_and_value(props, message):
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(ValidationError) as exc:
        SecureBucket(stack, "bad", props)
    assert message in str(exc.value)

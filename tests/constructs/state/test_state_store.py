"""StateStore: the state bucket and lock table cannot be destroyed, and both use the store's own key."""

from __future__ import annotations

from dataclasses import replace

import pytest

from constructs_lib.naming import NamingError
from constructs_lib.state.state_store import StateStore, StateStoreProps
from tests.constructs.support import synth

PROPS = StateStoreProps(
    bucket_name="sophia-terraform-state-111111111111",
    lock_table_name="sophia-terraform-locks",
    kms_alias="alias/sophia-terraform-state",
    region="us-west-2",
)


@pytest.fixture(scope="module")
def out() -> dict:
    return synth(lambda stack: StateStore(stack, "state", PROPS))


def only(resources: dict) -> dict:
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.values()))


def test_neither_the_bucket_nor_the_table_can_be_destroyed(out):
    resources = out["resource"]
    assert only(resources["aws_s3_bucket"])["lifecycle"] == {"prevent_destroy": True}
    table = only(resources["aws_dynamodb_table"])
    assert table["lifecycle"] == {"prevent_destroy": True}
    assert table["deletion_protection_enabled"] is True
    assert "force_destroy" not in only(resources["aws_s3_bucket"]) or only(resources["aws_s3_bucket"])["force_destroy"] is False


def test_state_and_locks_are_encrypted_with_the_stores_own_rotating_key(out):
    resources = out["resource"]
    (key_id,) = resources["aws_kms_key"]
    assert resources["aws_kms_key"][key_id]["enable_key_rotation"] is True
    key_arn = f"${{aws_kms_key.{key_id}.arn}}"
    table = only(resources["aws_dynamodb_table"])
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": key_arn}
    encryption = only(resources["aws_s3_bucket_server_side_encryption_configuration"])
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"] == key_arn


def test_lock_table_is_what_the_s3_backend_expects_and_recoverable(out):
    table = only(out["resource"]["aws_dynamodb_table"])
    assert table["hash_key"] == "LockID"
    assert table["attribute"] == [{"name": "LockID", "type": "S"}]
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["point_in_time_recovery"] == {"enabled": True}


def test_old_state_versions_are_kept_for_the_configured_days(out):
    lifecycle = only(out["resource"]["aws_s3_bucket_lifecycle_configuration"])
    (rule,) = lifecycle["rule"]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 365}]
    assert only(out["resource"]["aws_s3_bucket_versioning"])["versioning_configuration"]["status"] == "Enabled"


def test_lock_table_name_is_checked():
    with pytest.raises(NamingError, match="DYNAMODB_TABLE"):
        synth(lambda stack: StateStore(stack, "state", replace(PROPS, lock_table_name="no spaces allowed")))

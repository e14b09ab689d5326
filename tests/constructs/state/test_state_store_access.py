"""StateStore: bucket, key and lock table grant each environment's role its own prefix, and nothing more."""

from __future__ import annotations

import pytest

from constructs_lib.errors import ValidationError
from constructs_lib.state import layout
from constructs_lib.state.state_store import EnvironmentAccess, StateStore, StateStoreProps
from tests.constructs.support import documents, synth

BUCKET = "sophia-terraform-state-111111111111"
TABLE = "sophia-terraform-state-lock"
ENVIRONMENTS = (
    EnvironmentAccess("dev", "sophia-state-dev", "111111111111", "sophia/dev"),
    EnvironmentAccess("staging", "sophia-state-staging", "222222222222", "sophia/staging"),
)


def props(**overrides) -> StateStoreProps:
    values = dict(
        bucket_name=BUCKET,
        lock_table_name=TABLE,
        kms_alias="alias/sophia/terraform-state",
        region="us-west-2",
        environments=ENVIRONMENTS,
    )
    values.update(overrides)
    return StateStoreProps(**values)


@pytest.fixture(scope="module")
def out() -> dict:
    return synth(lambda stack: StateStore(stack, "store", props()))


def role_refs(out: dict) -> dict[str, str]:
    """``${aws_iam_role.<id>.arn}`` -> environment, from the roles' names."""
    names = {a.role_name: a.environment for a in ENVIRONMENTS}
    return {f"${{aws_iam_role.{rid}.arn}}": names[role["name"]] for rid, role in out["resource"]["aws_iam_role"].items()}


def document_of(out: dict, resource_type: str, attribute: str) -> dict:
    (resource,) = out["resource"][resource_type].values()
    name = resource[attribute].split(".")[2]
    return documents(out)[name]


def grants(out: dict, document: dict) -> dict[str, list[dict]]:
    """Environment -> the statements naming its role; asserts no other AWS principal is named
    but the account root of the key's administration statement."""
    refs = role_refs(out)
    found: dict[str, list[dict]] = {}
    for statement in document["statement"]:
        for principal in statement.get("principals", []):
            if principal["type"] != "AWS":
                continue
            for identifier in principal["identifiers"]:
                if identifier.endswith(":root}") or identifier.endswith(":root"):
                    assert statement.get("sid") == "AccountAdministration", statement
                    continue
                assert identifier in refs, f"{statement.get('sid')} grants {identifier}, not an environment's role"
                found.setdefault(refs[identifier], []).append(statement)
    return found


def conditions(statement: dict) -> dict[str, tuple[str, list[str]]]:
    return {c["variable"]: (c["test"], c["values"]) for c in statement.get("condition", [])}


def test_one_role_per_environment_trusted_by_its_account_with_no_permissions_of_its_own(out):
    roles = out["resource"]["aws_iam_role"]
    assert sorted(r["name"] for r in roles.values()) == ["sophia-state-dev", "sophia-state-staging"]
    for role in roles.values():
        trust = documents(out)[role["assume_role_policy"].split(".")[2]]
        (statement,) = trust["statement"]
        (principal,) = statement["principals"]
        account = next(a.trusted_account_id for a in ENVIRONMENTS if a.role_name == role["name"])
        (identifier,) = principal["identifiers"]
        assert principal["type"] == "AWS" and identifier.startswith("arn:") and identifier.endswith(f":iam::{account}:root")
        assert statement["actions"] == ["sts:AssumeRole"] and "condition" not in statement
    # The three resource policies are the one place that says what a role may do.
    assert "aws_iam_role_policy" not in out["resource"]
    assert "aws_iam_role_policy_attachment" not in out["resource"]


def test_bucket_policy_grants_each_role_its_prefix_only(out):
    by_env = grants(out, document_of(out, "aws_s3_bucket_policy", "policy"))
    assert set(by_env) == {"dev", "staging"}
    for access in ENVIRONMENTS:
        statements = {s["sid"]: s for s in by_env[access.environment]}
        suffix = access.environment.capitalize()
        listing = statements[f"StateList{suffix}"]
        assert listing["actions"] == ["s3:ListBucket"]
        assert conditions(listing) == {"s3:prefix": ("StringLike", [f"{access.key_prefix}/*"])}
        objects = statements[f"StateObjects{suffix}"]
        assert sorted(objects["actions"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
        (resource,) = objects["resources"]
        assert resource.endswith(f":s3:::{BUCKET}/{access.key_prefix}/*")
        assert len(statements) == 2


def test_the_backends_own_objects_fall_under_the_prefix_granted():
    # The state, the S3 lock file and another workspace's state of a stack of staging.
    prefix = layout.environment_prefix("sophia", "staging")
    key = layout.state_key("sophia", "staging", "compute")
    for obj in (key, f"{key}.tflock", f"{layout.workspace_key_prefix('sophia', 'staging')}/blue/{key}"):
        assert obj.startswith(f"{prefix}/"), obj
    # DynamoDB lock items: "<bucket>/<key>" and its digest "<bucket>/<key>-md5".
    pattern = layout.lock_id_pattern(BUCKET, prefix)
    assert pattern == f"{BUCKET}/sophia/staging/*"
    for lock_id in (f"{BUCKET}/{key}", f"{BUCKET}/{key}-md5"):
        assert lock_id.startswith(pattern.removesuffix("*"))
    # ...and no other environment's.
    assert not f"{BUCKET}/{layout.state_key('sophia', 'production', 'compute')}".startswith(pattern.removesuffix("*"))


def test_key_policy_lets_each_role_use_the_key_through_s3_for_its_prefix_and_dynamodb(out):
    by_env = grants(out, document_of(out, "aws_kms_key", "policy"))
    assert set(by_env) == {"dev", "staging"}
    for access in ENVIRONMENTS:
        statements = {s["sid"]: s for s in by_env[access.environment]}
        suffix = access.environment.capitalize()
        objects = conditions(statements[f"StateObjectsKey{suffix}"])
        assert objects["kms:ViaService"] == ("StringEquals", ["s3.us-west-2.amazonaws.com"])
        test, (context,) = objects["kms:EncryptionContext:aws:s3:arn"]
        assert test == "StringLike" and context.endswith(f":s3:::{BUCKET}/{access.key_prefix}/*")
        assert sorted(statements[f"StateObjectsKey{suffix}"]["actions"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
        for sid in (f"StateLocksKey{suffix}", f"StateLocksKeyGrant{suffix}"):
            assert conditions(statements[sid])["kms:ViaService"] == ("StringEquals", ["dynamodb.us-west-2.amazonaws.com"])
        assert conditions(statements[f"StateLocksKeyGrant{suffix}"])["kms:GrantIsForAWSResource"] == ("Bool", ["true"])
        assert len(statements) == 3


def test_bucket_has_no_bucket_key_so_the_encryption_context_names_the_object(out):
    (sse,) = out["resource"]["aws_s3_bucket_server_side_encryption_configuration"].values()
    assert sse["rule"][0]["bucket_key_enabled"] is False


def test_lock_table_policy_limits_each_role_to_its_lock_items(out):
    (policy,) = out["resource"]["aws_dynamodb_resource_policy"].values()
    (table_id,) = out["resource"]["aws_dynamodb_table"]
    assert policy["resource_arn"] == f"${{aws_dynamodb_table.{table_id}.arn}}"
    by_env = grants(out, document_of(out, "aws_dynamodb_resource_policy", "policy"))
    for access in ENVIRONMENTS:
        (statement,) = by_env[access.environment]
        assert sorted(statement["actions"]) == ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"]
        assert conditions(statement) == {
            "dynamodb:LeadingKeys": ("ForAllValues:StringLike", [f"{BUCKET}/{access.key_prefix}/*"])
        }


def test_without_environments_nothing_is_granted():
    out = synth(lambda stack: StateStore(stack, "store", props(environments=())))
    assert "aws_iam_role" not in out["resource"]
    assert "aws_dynamodb_resource_policy" not in out["resource"]
    bucket_policy = document_of(out, "aws_s3_bucket_policy", "policy")
    assert {s["sid"] for s in bucket_policy["statement"]} == {"DenyInsecureTransport", "DenyOutdatedTls"}


@pytest.mark.parametrize(
    "environments, message",
    [
        ((ENVIRONMENTS[0], ENVIRONMENTS[0]), "each environment needs its own environment, got \\['dev'\\]"),
        (
            (ENVIRONMENTS[0], EnvironmentAccess("qa", "sophia-state-dev", "444444444444", "sophia/qa")),
            "each environment needs its own role_name, got \\['sophia-state-dev'\\]",
        ),
        ((EnvironmentAccess("dev", "r", "111111111111", "sophia/*"),), "key_prefix of 'dev' must be '<project>/<env>'.*'sophia/\\*'"),
        ((EnvironmentAccess("dev", "r", "111111111111", "sophia/dev/"),), "key_prefix of 'dev'.*'sophia/dev/'"),
        ((EnvironmentAccess("dev", "r", "1111", "sophia/dev"),), "trusted_account_id of 'dev' must be a 12-digit account id, got '1111'"),
    ],
)
def test_validation_names_the_value(environments, message):
    with pytest.raises(ValidationError, match=message):
        synth(lambda stack: StateStore(stack, "store", props(environments=environments)))

"""Cross-account state, as synthesized: every environment stack reads and writes its state
in the state account through its own role, and the state resources grant exactly those
roles, each its own prefix."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import sophia_config as config
from constructs_lib.state import layout
from stacks import FUNCTIONS
from tests.conftest import ROOT

APP = config.load(ROOT / "config")
STATE = APP.project.state
ENVIRONMENTS = [env.name for env in APP.environments]


def role_of(env: str) -> str:
    return APP.environment(env).config.state.role_arn


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_stack_writes_its_state_through_the_environments_role(stack_json, env):
    prefix = layout.environment_prefix(APP.project.name, env)
    for function in FUNCTIONS:
        backend = stack_json(f"{function}-{env}")["terraform"]["backend"]["s3"]
        assert backend["assume_role"] == {"role_arn": role_of(env)}, f"{function}-{env}"
        assert backend["bucket"] == STATE.bucket
        assert backend["dynamodb_table"] == STATE.lock_table and backend["region"] == STATE.region
        assert backend["key"] == f"{prefix}/{function}.tfstate"
        assert backend["workspace_key_prefix"].startswith(f"{prefix}/")
        # SSE-KMS with the state account's key (encrypt alone would ask for SSE-S3).
        assert backend["encrypt"] is True
        assert backend["kms_key_id"] == f"arn:aws:kms:{STATE.region}:{STATE.account_id}:alias/{APP.project.name}/terraform-state"
        assert "role_arn" not in backend  # the deprecated top-level form


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_cross_stack_read_assumes_the_same_role(stack_json, env):
    prefix = layout.environment_prefix(APP.project.name, env)
    reads = 0
    for function in FUNCTIONS:
        for name, source in stack_json(f"{function}-{env}").get("data", {}).get("terraform_remote_state", {}).items():
            reads += 1
            assert source["backend"] == "s3", name
            assert source["config"]["assume_role"] == {"role_arn": role_of(env)}, f"{function}-{env}: {name}"
            assert source["config"]["bucket"] == STATE.bucket
            assert source["config"]["key"].startswith(f"{prefix}/"), f"{function}-{env} reads {source['config']['key']}"
    assert reads >= 15


def test_the_roles_live_in_the_state_account_and_differ_per_environment():
    roles = [role_of(env) for env in ENVIRONMENTS]
    assert len(set(roles)) == len(roles)
    assert all(role.split(":")[4] == STATE.account_id for role in roles)
    # Staging and production run in other accounts, and still reach the state this way.
    assert {APP.environment(e).config.aws.account_id for e in ("staging", "production")}.isdisjoint({STATE.account_id})


# --- the state resources' policies -------------------------------------------------------------


@pytest.fixture(scope="module")
def bootstrap(stack_json) -> dict:
    return stack_json("state-bootstrap")


def test_the_bootstrap_state_lives_next_to_the_output_folder_and_is_never_committed(bootstrap, synth_outdir):
    # Inside the output folder, every synthesis (each cdktf deploy starts with one) would replace it.
    path = bootstrap["terraform"]["backend"]["local"]["path"]
    assert not Path(path).is_absolute()  # the same output on every machine
    state = (synth_outdir / "stacks" / "state-bootstrap" / path).resolve()
    assert state.parent == synth_outdir.resolve().parent
    for name in (state.name, f"{state.name}.backup", f".{state.name}.lock.info"):
        ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "--no-index", name], check=False)
        assert ignored.returncode == 0, f"{name} is not ignored by .gitignore"


def documents(stack: dict) -> dict:
    return stack["data"]["aws_iam_policy_document"]


def role_refs(stack: dict) -> dict[str, str]:
    """``${aws_iam_role.<id>.arn}`` -> the environment whose state role it is."""
    by_name = {role_of(env).rpartition("/")[2]: env for env in ENVIRONMENTS}
    return {f"${{aws_iam_role.{rid}.arn}}": by_name[role["name"]] for rid, role in stack["resource"]["aws_iam_role"].items()}


def granted(stack: dict, resource_type: str) -> dict[str, list[dict]]:
    """Environment -> statements of ``resource_type``'s policy naming its role. No other
    principal gets an Allow, except the account root administering the key."""
    (resource,) = stack["resource"][resource_type].values()
    document = documents(stack)[re.match(r"\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}", resource["policy"]).group(1)]
    refs = role_refs(stack)
    found: dict[str, list[dict]] = {}
    for statement in document["statement"]:
        if statement.get("effect", "Allow") != "Allow":
            continue
        identifiers = [i for p in statement.get("principals", []) for i in p["identifiers"]]
        if statement.get("sid") == "AccountAdministration":
            assert all(i.endswith(":root") for i in identifiers)
            continue
        assert identifiers and all(i in refs for i in identifiers), statement
        for identifier in identifiers:
            found.setdefault(refs[identifier], []).append(statement)
    return found


def test_bootstrap_creates_exactly_the_configured_roles_trusted_by_their_environments(bootstrap):
    roles = {role["name"]: role for role in bootstrap["resource"]["aws_iam_role"].values()}
    assert sorted(roles) == sorted(role_of(env).rpartition("/")[2] for env in ENVIRONMENTS)
    for env in ENVIRONMENTS:
        role = roles[role_of(env).rpartition("/")[2]]
        trust = documents(bootstrap)[role["assume_role_policy"].split(".")[2]]
        (identifier,) = [i for s in trust["statement"] for p in s["principals"] for i in p["identifiers"]]
        assert identifier.endswith(f":iam::{APP.environment(env).config.aws.account_id}:root")
    assert bootstrap["provider"]["aws"][0]["allowed_account_ids"] == [STATE.account_id]


def test_bucket_grants_exactly_the_roles_each_its_prefix(bootstrap):
    grants = granted(bootstrap, "aws_s3_bucket_policy")
    assert set(grants) == set(ENVIRONMENTS)
    for env, statements in grants.items():
        prefix = layout.environment_prefix(APP.project.name, env)
        for statement in statements:
            for resource in statement["resources"]:
                # The bucket itself (listing, limited by s3:prefix) or objects under the prefix.
                if resource.endswith(f":s3:::{STATE.bucket}"):
                    prefixes = [c["values"] for c in statement["condition"] if c["variable"] == "s3:prefix"]
                    assert prefixes == [[f"{prefix}/*"]], statement
                else:
                    assert resource.endswith(f":s3:::{STATE.bucket}/{prefix}/*"), resource


def test_key_grants_exactly_the_roles_each_its_prefix_or_the_lock_table(bootstrap):
    grants = granted(bootstrap, "aws_kms_key")
    assert set(grants) == set(ENVIRONMENTS)
    for env, statements in grants.items():
        prefix = layout.environment_prefix(APP.project.name, env)
        for statement in statements:
            conditions = {c["variable"]: c["values"] for c in statement["condition"]}
            service = conditions["kms:ViaService"][0]
            if service.startswith("s3."):
                (context,) = conditions["kms:EncryptionContext:aws:s3:arn"]
                assert context.endswith(f":s3:::{STATE.bucket}/{prefix}/*")
            else:
                assert service == f"dynamodb.{STATE.region}.amazonaws.com"


def test_lock_table_grants_exactly_the_roles_each_its_lock_items(bootstrap):
    grants = granted(bootstrap, "aws_dynamodb_resource_policy")
    assert set(grants) == set(ENVIRONMENTS)
    for env, (statement,) in grants.items():
        prefix = layout.environment_prefix(APP.project.name, env)
        (condition,) = statement["condition"]
        assert (condition["test"], condition["variable"]) == ("ForAllValues:StringLike", "dynamodb:LeadingKeys")
        # "<bucket>/<key>" locks and their "<bucket>/<key>-md5" digests, for this prefix only.
        assert condition["values"] == [f"{STATE.bucket}/{prefix}/*"]

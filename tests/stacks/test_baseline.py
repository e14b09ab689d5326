"""The account baseline of every environment, as synthesized: who may assume each role
(the OIDC ``sub`` claims), what the pipeline roles may do, the trail, and the one home of
the roles' ARNs."""

from __future__ import annotations

import json
import re

import pytest

import sophia_config as config
from tests.conftest import ROOT

APP = config.load(ROOT / "config")
ENVIRONMENTS = [env.name for env in APP.environments]
REPO = APP.project.github.repository


def documents(stack: dict) -> dict:
    return stack["data"]["aws_iam_policy_document"]


def doc(stack: dict, reference: str) -> dict:
    return documents(stack)[re.match(r"\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}", reference).group(1)]


def role(stack: dict, kind: str) -> tuple[str, dict]:
    name = f"{APP.project.name}-baseline-{kind}-role-"
    ((rid, found),) = [(rid, r) for rid, r in stack["resource"]["aws_iam_role"].items() if r["name"].startswith(name)]
    return rid, found


def trust(stack: dict, kind: str) -> dict:
    (statement,) = doc(stack, role(stack, kind)[1]["assume_role_policy"])["statement"]
    return statement


def subjects(statement: dict) -> list[str]:
    (values,) = [c["values"] for c in statement["condition"] if c["variable"] == "token.actions.githubusercontent.com:sub"]
    return values


def inline(stack: dict, kind: str) -> dict:
    rid, _ = role(stack, kind)
    (policy,) = [p for p in stack["resource"]["aws_iam_role_policy"].values() if p["role"] == f"${{aws_iam_role.{rid}.id}}"]
    return doc(stack, policy["policy"])


def by_sid(document: dict) -> dict[str, dict]:
    return {s["sid"]: s for s in document["statement"]}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deploy_role_trusts_only_the_protected_environment_of_the_same_name(stack_json, env):
    statement = trust(stack_json(f"baseline-{env}"), "deploy")
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert subjects(statement) == [f"repo:{REPO}:environment:{env}"]
    conditions = {c["variable"]: c for c in statement["condition"]}
    assert conditions["token.actions.githubusercontent.com:aud"]["values"] == ["sts.amazonaws.com"]
    assert {c["test"] for c in statement["condition"]} == {"StringEquals"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_plan_role_trusts_the_drift_job_and_pull_requests_where_configured(stack_json, env):
    expected = [f"repo:{REPO}:environment:{env}-drift"]
    if APP.environment(env).config.baseline.pull_request_plans:
        expected.append(f"repo:{REPO}:pull_request")
    assert subjects(trust(stack_json(f"baseline-{env}"), "plan")) == expected


def test_production_is_never_planned_from_a_pull_request(stack_json):
    assert f"repo:{REPO}:pull_request" not in subjects(trust(stack_json("baseline-production"), "plan"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_both_pipeline_roles_reach_the_state_only_through_the_environments_state_role(stack_json, env):
    stack = stack_json(f"baseline-{env}")
    state_role = APP.environment(env).config.state.role_arn
    for kind in ("deploy", "plan"):
        statements = by_sid(inline(stack, kind))
        assert statements["AssumeStateRole"]["actions"] == ["sts:AssumeRole"]
        assert statements["AssumeStateRole"]["resources"] == [state_role]
        assert not [s for s in statements.values() if "sts:AssumeRole" in s["actions"] and s["sid"] != "AssumeStateRole"]
    # The plan role reads, and reads no data; it writes nothing.
    plan = by_sid(inline(stack, "plan"))
    assert plan["NoDataReads"]["effect"] == "Deny" and "s3:GetObject" in plan["NoDataReads"]["actions"]
    allowed = [a for s in plan.values() if s.get("effect", "Allow") == "Allow" for a in s["actions"]]
    assert sorted(allowed) == ["kms:Decrypt", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "sts:AssumeRole"]
    key = plan["ProjectSecretsKey"]["condition"]
    assert key == [{"test": "StringEquals", "variable": "kms:ViaService", "values": ["secretsmanager.us-west-2.amazonaws.com"]}]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_deploy_role_cannot_touch_its_own_baseline(stack_json, env):
    stack = stack_json(f"baseline-{env}")
    statements = by_sid(inline(stack, "deploy"))
    identities = statements["ProtectBaselineIdentities"]
    assert identities["effect"] == "Deny" and "iam:UpdateAssumeRolePolicy" in identities["actions"]
    protected = identities["resources"]
    for kind in ("deploy", "plan", "cluster-admin"):
        assert any(r.endswith(f":role/{role(stack, kind)[1]['name']}") for r in protected), kind
    assert any(r.endswith(":oidc-provider/token.actions.githubusercontent.com") for r in protected)
    trail = statements["ProtectAuditTrail"]
    assert trail["effect"] == "Deny" and {"s3:DeleteObject", "logs:DeleteLogGroup", "kms:ScheduleKeyDeletion"} <= set(trail["actions"])
    # CloudTrail itself is not granted at all.
    assert not any(a.startswith("cloudtrail:") for s in statements.values() for a in s["actions"] if s.get("effect", "Allow") == "Allow")
    # IAM writes stay on the project's own roles and policies.
    assert all(f":role/{APP.project.name}-" in r or f":policy/{APP.project.name}-" in r or f":instance-profile/{APP.project.name}-" in r for r in statements["ProjectIam"]["resources"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cluster_admin_role_is_assumed_within_the_account_and_only_finds_clusters(stack_json, env):
    stack = stack_json(f"baseline-{env}")
    statement = trust(stack, "cluster-admin")
    (identifier,) = statement["principals"][0]["identifiers"]
    assert identifier.endswith(f":iam::{APP.environment(env).config.aws.account_id}:root")
    actions = sorted(a for s in inline(stack, "cluster-admin")["statement"] for a in s["actions"])
    assert actions == ["eks:DescribeCluster", "eks:ListClusters"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_oidc_provider_and_trail(stack_json, env):
    stack = stack_json(f"baseline-{env}")
    providers = stack["resource"].get("aws_iam_openid_connect_provider", {})
    assert len(providers) == (1 if APP.environment(env).config.baseline.github_oidc_provider else 0)
    (trail,) = stack["resource"]["aws_cloudtrail"].values()
    assert trail["is_multi_region_trail"] and trail["enable_log_file_validation"]
    (lifecycle,) = stack["resource"]["aws_s3_bucket_lifecycle_configuration"].values()
    assert lifecycle["rule"][0]["expiration"] == [{"days": APP.environment(env).config.baseline.trail_expiration_days}]
    outputs = set(stack["output"])
    assert {"deploy_role_arn", "plan_role_arn", "cluster_admin_role_arn", "trail_arn"} <= outputs


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_cluster_admits_the_baseline_roles_by_reference(stack_json, env):
    compute = stack_json(f"compute-{env}")
    remote = f"${{data.terraform_remote_state.cross-stack-reference-input-baseline-{env}.outputs."
    principals = [e["principal_arn"] for e in compute["resource"]["aws_eks_access_entry"].values()]
    assert len(principals) == 3 and all(p.startswith(remote) for p in principals), principals
    policies = sorted(p["policy_arn"].rpartition("/")[2] for p in compute["resource"]["aws_eks_access_policy_association"].values())
    assert policies == ["AmazonEKSAdminViewPolicy", "AmazonEKSClusterAdminPolicy", "AmazonEKSClusterAdminPolicy"]


def test_no_role_arn_is_typed_anywhere_but_the_state_roles(synth_outdir):
    # One home per ARN: the hand-made roles config used to name are gone, and no stack
    # spells an account's role ARN except the state roles of config/<env>.yaml.
    state_roles = {APP.environment(env).config.state.role_arn for env in ENVIRONMENTS}
    for path in sorted((synth_outdir / "stacks").glob("*/cdk.tf.json")):
        text = path.read_text()
        assert "sophia-platform-admin" not in text and "sophia-ci-deploy" not in text, path
        typed = set(re.findall(r"arn:aws:iam::\d{12}:role/[A-Za-z0-9+=,.@_-]+", text)) - state_roles
        assert not typed, (path.parent.name, typed)
    # The references order the deployment: compute waits for its environment's baseline.
    manifest = json.loads((synth_outdir / "manifest.json").read_text())["stacks"]
    for env in ENVIRONMENTS:
        assert f"baseline-{env}" in manifest[f"compute-{env}"]["dependencies"]
        assert manifest[f"baseline-{env}"]["dependencies"] == []

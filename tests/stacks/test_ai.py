"""The ai-ml and ai-workloads stacks as the app synthesizes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sophia_config import load

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
ENVIRONMENTS = ("dev", "staging", "production")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_kubernetes_provider_comes_from_compute_cross_stack_refs(stack_json, env):
    (provider,) = stack_json(f"ai-workloads-{env}")["provider"]["kubernetes"]
    remote = f"data.terraform_remote_state.cross-stack-reference-input-compute-{env}.outputs."
    assert provider["host"].startswith("${" + remote)
    assert provider["cluster_ca_certificate"].startswith("${base64decode(" + remote)
    (exec_,) = provider["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"][:3] == ["eks", "get-token", "--cluster-name"]
    assert exec_["args"][3].startswith("${" + remote)
    assert not {"config_path", "config_paths", "token", "client_key", "password"} & set(provider)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_configured_model_is_deployed_without_replicas(stack_json, env):
    resources = stack_json(f"ai-workloads-{env}")["resource"]
    deployments = {d["metadata"]["name"]: d for d in resources["kubernetes_deployment_v1"].values()}
    # Besides the node autoscaler (tests/constructs/compute/test_cluster_autoscaler.py), one per model.
    assert set(deployments) == {"model-bert-base", "model-roberta-large", "model-gpt-j", "cluster-autoscaler"}
    del deployments["cluster-autoscaler"]
    assert all("replicas" not in d["spec"] for d in deployments.values())
    image = deployments["model-gpt-j"]["spec"]["template"]["spec"]["container"][0]["image"]
    assert image.startswith(f"${{data.terraform_remote_state.cross-stack-reference-input-ai-ml-{env}.outputs.")
    assert image.endswith(":gpt-j-1.0.0")


def test_pod_disruption_budgets_only_where_config_enables_them(stack_json):
    assert len(stack_json("ai-workloads-production")["resource"]["kubernetes_pod_disruption_budget_v1"]) == 3
    for env in ("dev", "staging"):
        assert "kubernetes_pod_disruption_budget_v1" not in stack_json(f"ai-workloads-{env}")["resource"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_vector_db_admits_only_the_compute_node_security_group(stack_json, env):
    resources = stack_json(f"ai-ml-{env}")["resource"]
    (rule,) = resources["aws_vpc_security_group_ingress_rule"].values()
    assert rule["referenced_security_group_id"].startswith(
        f"${{data.terraform_remote_state.cross-stack-reference-input-compute-{env}.outputs."
    )
    assert "node" in rule["referenced_security_group_id"]
    (domain,) = resources["aws_opensearch_domain"].values()
    assert len(domain["domain_name"]) <= 28
    for alarm in (a for a in resources["aws_cloudwatch_metric_alarm"].values() if a["namespace"] == "AWS/ES"):
        assert alarm["alarm_actions"] == alarm["ok_actions"]
        assert alarm["alarm_actions"][0].startswith(f"${{data.terraform_remote_state.cross-stack-reference-input-shared-{env}.")


def test_production_vector_db_is_zone_aware_with_dedicated_masters_and_dev_is_not(stack_json):
    (prod,) = stack_json("ai-ml-production")["resource"]["aws_opensearch_domain"].values()
    (dev,) = stack_json("ai-ml-dev")["resource"]["aws_opensearch_domain"].values()
    assert prod["cluster_config"]["zone_awareness_config"] == {"availability_zone_count": 3}
    assert prod["cluster_config"]["dedicated_master_count"] == 3
    assert len(prod["vpc_options"]["subnet_ids"]) == 3
    assert dev["cluster_config"]["zone_awareness_enabled"] is False
    assert len(dev["vpc_options"]["subnet_ids"]) == 1


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_registry_keeps_releases_per_configured_model(stack_json, env):
    (policy,) = stack_json(f"ai-ml-{env}")["resource"]["aws_ecr_lifecycle_policy"].values()
    prefixes = [r["selection"].get("tagPrefixList") for r in json.loads(policy["policy"])["rules"]]
    assert prefixes == [None, ["bert-base-"], ["roberta-large-"], ["gpt-j-"]]


def test_device_plugin_deployed_where_gpu_models_run_on_al2023(stack_json):
    for env in load(CONFIG_DIR).environments:
        expected = env.config.gpu_nodes.ami_type == "AL2023_x86_64_NVIDIA" and any(m.gpu_enabled for m in env.config.models)
        resources = stack_json(f"ai-workloads-{env.name}")["resource"]
        assert ("kubernetes_daemon_set_v1" in resources) is expected, env.name


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_model_has_its_own_irsa_role_for_its_service_account(stack_json, env):
    ai_ml = stack_json(f"ai-ml-{env}")
    documents = ai_ml["data"]["aws_iam_policy_document"]
    roles = {r["name"]: r for r in ai_ml["resource"]["aws_iam_role"].values()}
    for model in ("bert-base", "roberta-large", "gpt-j"):
        role = roles[f"sophia-ai-{model}-model-{env}"]
        ref = role["assume_role_policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
        (statement,) = documents[ref]["statement"]
        subjects = [c["values"] for c in statement["condition"] if c["variable"].endswith(":sub")]
        assert subjects == [[f"system:serviceaccount:model-{model}:model-{model}"]]
    accounts = stack_json(f"ai-workloads-{env}")["resource"]["kubernetes_service_account_v1"].values()
    accounts = [a for a in accounts if a["metadata"]["name"].startswith("model-")]
    assert len(accounts) == 3
    for account in accounts:
        annotation = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert annotation.startswith(f"${{data.terraform_remote_state.cross-stack-reference-input-ai-ml-{env}.outputs.")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_gpu_nodes_and_model_roles_read_artifacts_through_the_registrys_one_grant(stack_json, env):
    ai_ml = stack_json(f"ai-ml-{env}")
    resources = ai_ml["resource"]
    documents = ai_ml["data"]["aws_iam_policy_document"]
    (bucket_key,) = resources["aws_s3_bucket"]
    roles = {f"${{aws_iam_role.{key}.name}}": role["name"] for key, role in resources["aws_iam_role"].items()}
    readers = {}
    for policy in resources["aws_iam_role_policy"].values():
        ref = policy["policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
        readers[roles.get(policy["role"], policy["role"])] = documents[ref]["statement"]
    gpu_role = f"sophia-ai-gpu-node-role-{env}"
    model_roles = [f"sophia-ai-{m}-model-{env}" for m in ("bert-base", "roberta-large", "gpt-j")]
    assert set(model_roles) | {gpu_role} <= set(readers)
    for role in (gpu_role, *model_roles):
        statements = readers[role]
        # The same statements for every reader: one definition of "read the artifacts bucket".
        assert statements == readers[gpu_role]
        s3 = [s for s in statements if s["actions"][0].startswith("s3:")]
        assert {r for s in s3 for r in s["resources"]} == {
            f"${{aws_s3_bucket.{bucket_key}.arn}}",
            f"${{aws_s3_bucket.{bucket_key}.arn}}/*",
        }
        assert {a for s in statements for a in s["actions"]} == {
            "s3:ListBucket", "s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt"
        }

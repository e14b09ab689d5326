"""The compute and ai-ml stacks of every environment, as synthesized by ``make synth``."""

from __future__ import annotations

import json

import pytest

ENVIRONMENTS = ("dev", "staging", "production")


def only(resources: dict) -> dict:
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.values()))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cluster_uses_the_private_subnets_and_the_security_keys(stack_json, env):
    compute = stack_json(f"compute-{env}")
    cluster = only(compute["resource"]["aws_eks_cluster"])
    remote = "${data.terraform_remote_state.cross-stack-reference-input-"
    assert cluster["vpc_config"]["endpoint_public_access"] is False
    subnets = cluster["vpc_config"]["subnet_ids"]
    assert subnets and all(s.startswith(f"{remote}networking-{env}.") and "private" in s for s in subnets)
    key = cluster["encryption_config"]["provider"]["key_arn"]
    assert key.startswith(f"{remote}security-{env}.") and "eks" in key
    groups = {g["name"]: g for g in compute["resource"]["aws_cloudwatch_log_group"].values()}
    expected = {f"/aws/eks/{cluster['name']}/cluster"} | {
        f"/aws/containerinsights/{cluster['name']}/{kind}" for kind in ("application", "dataplane", "host", "performance")
    }
    assert set(groups) == expected
    for group in groups.values():
        assert group["kms_key_id"].startswith(f"{remote}security-{env}.") and "logs" in group["kms_key_id"]
        assert group["retention_in_days"] >= 30


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_stack_uses_amazon_linux_2_or_account_wide_s3_read(stack_json, env):
    for function in ("compute", "ai-ml"):
        text = json.dumps(stack_json(f"{function}-{env}"))
        assert '"AL2_' not in text
        assert "AmazonS3ReadOnlyAccess" not in text
        assert "bootstrap.sh" not in text


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_gpu_nodes_join_the_compute_cluster_with_both_security_groups(stack_json, env):
    ai_ml = stack_json(f"ai-ml-{env}")
    node_group = only(ai_ml["resource"]["aws_eks_node_group"])
    assert "cross-stack-reference-input-compute-" in node_group["cluster_name"]
    template = only(ai_ml["resource"]["aws_launch_template"])
    groups = template["vpc_security_group_ids"]
    assert len(groups) == 2 and all(f"compute-{env}" in g for g in groups)
    assert template["metadata_options"]["http_tokens"] == "required"


def test_production_and_dev_differ_only_through_configuration(stack_json):
    production = only(stack_json("ai-ml-production")["resource"]["aws_eks_node_group"])
    dev = only(stack_json("ai-ml-dev")["resource"]["aws_eks_node_group"])
    assert production["capacity_type"] == "ON_DEMAND"
    assert dev["capacity_type"] == "SPOT"
    assert production["scaling_config"]["max_size"] > dev["scaling_config"]["max_size"]
    assert production["taint"] == dev["taint"]
    assert production["labels"] == dev["labels"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_metrics_server_feeds_the_model_servers_hpas(stack_json, env):
    # Every HPA of ai-workloads scales on CPU and memory from the resource metrics API,
    # which only metrics-server serves; it runs as a Deployment, so after the nodes.
    compute = stack_json(f"compute-{env}")
    addons = {a["addon_name"]: a for a in compute["resource"]["aws_eks_addon"].values()}
    assert "metrics-server" in addons
    assert any(dep.startswith("aws_eks_node_group.") for dep in addons["metrics-server"].get("depends_on", []))
    hpas = stack_json(f"ai-workloads-{env}")["resource"]["kubernetes_horizontal_pod_autoscaler_v2"]
    assert hpas

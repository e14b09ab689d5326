"""ClusterAutoscaler: a locked-down pod, RBAC without wildcards, a version matched to the
cluster, and an IRSA role that can resize this cluster's node groups only."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting  # not "Testing": pytest would try to collect it

import sophia_config as config_mod
from constructs_lib.compute import cluster_autoscaler
from constructs_lib.compute.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerProps
from constructs_lib.errors import ValidationError
from constructs_lib.providers import k8s
from tests.conftest import ROOT

ROLE = "arn:aws:iam::111111111111:role/sophia-compute-cluster-autoscaler-role-dev"
PROPS = ClusterAutoscalerProps(
    cluster_name="sophia-compute-eks-dev",
    region="us-west-2",
    kubernetes_version="1.33",
    version="v1.33.6",
    role_arn=ROLE,
)
ENVIRONMENTS = [e.name for e in config_mod.load(ROOT / "config").environments]
# Actions that only read: everything else the role may do is a write.
READ_PREFIXES = ("Describe", "Get", "List")


def synth(props: ClusterAutoscalerProps = PROPS) -> dict:
    stack = TerraformStack(CdktfTesting.app(), "test")
    k8s.provider.KubernetesProvider(stack, "kubernetes", host="https://example.invalid")
    ClusterAutoscaler(stack, "autoscaler", props)
    return json.loads(CdktfTesting.synth(stack))["resource"]


def only(resources: dict) -> dict:
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.values()))


@pytest.fixture(scope="module")
def resources() -> dict:
    return synth()


@pytest.fixture(scope="module")
def pod(resources) -> dict:
    deployment = only(resources["kubernetes_deployment_v1"])
    assert deployment["metadata"]["namespace"] == "kube-system"
    return deployment["spec"]["template"]["spec"]


# --- the pod ----------------------------------------------------------------------------


def test_the_pod_runs_as_non_root_with_a_read_only_root_and_no_privileges(pod):
    assert pod["security_context"]["run_as_non_root"] is True
    assert int(pod["security_context"]["run_as_user"]) > 0
    assert pod["security_context"]["seccomp_profile"] == {"type": "RuntimeDefault"}
    (container,) = pod["container"]
    sc = container["security_context"]
    assert sc["run_as_non_root"] is True and int(sc["run_as_user"]) > 0
    assert sc["read_only_root_filesystem"] is True
    assert sc["allow_privilege_escalation"] is False
    assert sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    # No host path, no host network: nothing of the node is reachable from the pod.
    assert "volume" not in pod and "host_network" not in pod


def test_the_pod_has_requests_and_limits_and_the_cluster_critical_priority(pod):
    (container,) = pod["container"]
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert pod["priority_class_name"] == "system-cluster-critical"
    # On the general nodes, never on the GPU nodes it may scale to zero.
    assert pod["node_selector"]["workload-type"] == "general"


def test_the_autoscaler_discovers_this_clusters_groups_and_is_configured_safely(pod):
    (container,) = pod["container"]
    args = container["args"]
    assert "--cloud-provider=aws" in args
    assert (
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/sophia-compute-eks-dev"
        in args
    )
    for flag in ("--balance-similar-node-groups=true", "--skip-nodes-with-system-pods=true", "--expander=least-waste"):
        assert flag in args
    # The model servers' emptyDir /tmp must not pin their nodes forever.
    assert "--skip-nodes-with-local-storage=false" in args
    assert container["image"] == "registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.6"
    # IMDS is out of reach (hop limit 1): the region comes from the environment.
    assert {"name": "AWS_REGION", "value": "us-west-2"} in container["env"]
    assert container["liveness_probe"]["http_get"]["path"] == container["readiness_probe"]["http_get"]["path"] == "/health-check"


def test_the_service_account_carries_the_irsa_role(resources, pod):
    account = only(resources["kubernetes_service_account_v1"])["metadata"]
    assert (account["namespace"], account["name"]) == (cluster_autoscaler.NAMESPACE, cluster_autoscaler.SERVICE_ACCOUNT)
    assert account["annotations"] == {"eks.amazonaws.com/role-arn": ROLE}
    assert pod["service_account_name"].endswith(".metadata[0].name}")


# --- RBAC -------------------------------------------------------------------------------


def test_rbac_has_no_wildcards_no_secrets_and_no_node_creation(resources):
    cluster_rules = only(resources["kubernetes_cluster_role_v1"])["rule"]
    role = only(resources["kubernetes_role_v1"])
    assert role["metadata"]["namespace"] == "kube-system"
    for rule in [*cluster_rules, *role["rule"]]:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["api_groups"]
        assert "secrets" not in rule["resources"]
    node_verbs = {v for r in cluster_rules if "nodes" in r["resources"] for v in r["verbs"]}
    assert node_verbs == {"get", "list", "watch", "update"}
    # Writes to ConfigMaps and Leases only on the autoscaler's own objects.
    for rule in role["rule"]:
        if set(rule["verbs"]) & {"update", "delete"}:
            assert rule["resource_names"] in (["cluster-autoscaler-status"], ["cluster-autoscaler"])
    binding = only(resources["kubernetes_cluster_role_binding_v1"])
    assert binding["subject"] == [{"kind": "ServiceAccount", "name": "cluster-autoscaler", "namespace": "kube-system"}]


# --- version ----------------------------------------------------------------------------


@pytest.mark.parametrize("minor", range(28, 37))
@pytest.mark.parametrize("autoscaler_minor", range(28, 37))
def test_only_a_release_of_the_clusters_minor_is_accepted(minor, autoscaler_minor):
    props = replace(PROPS, kubernetes_version=f"1.{minor}", version=f"v1.{autoscaler_minor}.2")
    if minor == autoscaler_minor:
        ClusterAutoscaler._validate("a", props)
    else:
        with pytest.raises(ValidationError, match=f"version 'v1.{autoscaler_minor}.2' does not match kubernetes_version '1.{minor}'"):
            ClusterAutoscaler._validate("a", props)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(version="1.33.6"), "version must be a release tag vX.Y.Z"),
        (dict(version="v1.33"), "version must be a release tag vX.Y.Z"),
        (dict(version="latest"), "version must be a release tag vX.Y.Z"),
        (dict(kubernetes_version="1.33.1"), "kubernetes_version must look like '1.33'"),
        (dict(image_repository="registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.6"), "without tag or digest"),
        (dict(expander="priority"), "expander must be one of"),
        (dict(scale_down_unneeded_time="10 minutes"), "scale_down_unneeded_time must be a duration"),
        (dict(region="mars-1"), "region must be an AWS region"),
        (dict(role_arn="arn:aws:iam::111111111111:user/bob"), "role_arn must be an IAM role ARN"),
        (dict(node_selector={}), "node_selector must pin"),
        (dict(memory_limit="300Mi"), "memory_limit '300Mi' must be >= memory_request '600Mi'"),
        (dict(cpu_request="1", cpu_limit="500m"), "cpu_limit '500m' must be >= cpu_request '1'"),
        (dict(cpu_request="lots"), "cpu_request is not a Kubernetes quantity"),
    ],
)
def test_bad_props_are_refused_at_construction(change, message):
    with pytest.raises(ValidationError, match=message):
        synth(replace(PROPS, **change))


def test_every_environment_pins_a_release_of_its_clusters_minor(stack_json):
    for env in config_mod.load(ROOT / "config").environments:
        eks = env.config.eks
        (deployment,) = [
            d for d in stack_json(f"ai-workloads-{env.name}")["resource"]["kubernetes_deployment_v1"].values()
            if d["metadata"]["name"] == "cluster-autoscaler"
        ]
        image = deployment["spec"]["template"]["spec"]["container"][0]["image"]
        assert image == f"registry.k8s.io/autoscaling/cluster-autoscaler:{eks.cluster_autoscaler.version}"
        assert image.rpartition(":")[2].startswith(f"v{eks.kubernetes_version}.")


# --- IAM (least privilege) ----------------------------------------------------------------


def is_write(action: str) -> bool:
    return not action.split(":", 1)[1].startswith(READ_PREFIXES)


def test_the_statements_allow_no_write_without_the_clusters_ownership_tag():
    statements = ClusterAutoscaler.iam_statements("sophia-compute-eks-dev")
    writes = [a for s in statements for a in s.actions if is_write(a)]
    assert sorted(writes) == ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    for statement in statements:
        assert statement.effect == "Allow" and not any("*" in a for a in statement.actions)
        if any(is_write(a) for a in statement.actions):
            assert [(c.test, c.variable, c.values) for c in statement.conditions] == [
                ("StringEquals", "aws:ResourceTag/k8s.io/cluster-autoscaler/sophia-compute-eks-dev", ("owned",))
            ]
    # Labels and taints of empty groups come from the ASG tags, not from the EKS API.
    assert not any(a.startswith("eks:") for s in statements for a in s.actions)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_synthesized_role_is_trusted_by_the_autoscalers_account_only_and_scoped_to_its_cluster(stack_json, env):
    compute = stack_json(f"compute-{env}")
    documents = compute["data"]["aws_iam_policy_document"]
    (role,) = [r for r in compute["resource"]["aws_iam_role"].values() if r["name"] == f"sophia-compute-cluster-autoscaler-role-{env}"]
    trust = documents[role["assume_role_policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")]
    (statement,) = trust["statement"]
    subjects = [c["values"] for c in statement["condition"] if c["variable"].endswith(":sub")]
    assert subjects == [["system:serviceaccount:kube-system:cluster-autoscaler"]]

    (policy,) = [p for p in compute["resource"]["aws_iam_role_policy"].values() if p["name"] == "cluster-autoscaler"]
    permissions = documents[policy["policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")]
    (cluster,) = compute["resource"]["aws_eks_cluster"].values()
    for statement in permissions["statement"]:
        if any(is_write(a) for a in statement["actions"]):
            assert statement["condition"] == [
                {"test": "StringEquals", "variable": f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster['name']}", "values": ["owned"]}
            ]
    # The autoscaler's service account in ai-workloads names this role (a cross-stack reference).
    accounts = stack_json(f"ai-workloads-{env}")["resource"]["kubernetes_service_account_v1"].values()
    (account,) = [a for a in accounts if a["metadata"]["name"] == "cluster-autoscaler"]
    assert "cluster-autoscaler-role" in account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_gpu_groups_scale_from_zero_tags_are_its_labels_and_taints(stack_json, env):
    # The autoscaler plans an empty group from these tags alone (no eks:DescribeNodegroup).
    ai_ml = stack_json(f"ai-ml-{env}")["resource"]
    (group,) = ai_ml["aws_eks_node_group"].values()
    tags = {t["tag"]["key"]: t["tag"]["value"] for t in ai_ml["aws_autoscaling_group_tag"].values()}
    prefix = "k8s.io/cluster-autoscaler/node-template"
    labels = {k.removeprefix(f"{prefix}/label/"): v for k, v in tags.items() if k.startswith(f"{prefix}/label/")}
    taints = {k.removeprefix(f"{prefix}/taint/"): v for k, v in tags.items() if k.startswith(f"{prefix}/taint/")}
    assert labels == group["labels"]
    effects = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
    assert taints == {t["key"]: f"{t['value']}:{effects[t['effect']]}" for t in group["taint"]}
    gpus = config_mod.load(ROOT / "config").environment(env).config.gpu_nodes.gpus_per_node
    assert tags[f"{prefix}/resources/nvidia.com/gpu"] == str(gpus)

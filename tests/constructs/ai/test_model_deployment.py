"""ModelDeployment: HPA-owned, locked-down model servers; GPU pods land only on GPU nodes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting  # not "Testing": pytest would try to collect it

from constructs_lib.ai import model_deployment as md
from constructs_lib.ai.model_deployment import ModelDeployment, ModelDeploymentProps
from constructs_lib.errors import ValidationError
from constructs_lib.providers import k8s

IMAGE = "111111111111.dkr.ecr.us-west-2.amazonaws.com/sophia-ai-models-dev"
CPU_MODEL = ModelDeploymentProps(
    model_name="bert-base",
    model_version="1.0.0",
    image=f"{IMAGE}:bert-base-1.0.0",
    environment="dev",
    cpu_request="500m",
    memory_request="1Gi",
    cpu_limit="1",
    memory_limit="2Gi",
    min_replicas=2,
    max_replicas=10,
)
GPU_MODEL = replace(
    CPU_MODEL,
    model_name="gpt-j",
    image=f"{IMAGE}@sha256:{'a' * 64}",
    cpu_request="2",
    memory_request="10Gi",
    cpu_limit="3",
    memory_limit="12Gi",
    gpu_enabled=True,
    pod_disruption_budget=True,
)


def synth(*props: ModelDeploymentProps) -> dict:
    stack = TerraformStack(CdktfTesting.app(), "test")
    k8s.provider.KubernetesProvider(stack, "kubernetes", host="https://example.invalid")
    for p in props:
        ModelDeployment(stack, p.model_name, p)
    return json.loads(CdktfTesting.synth(stack))


@pytest.fixture(scope="module")
def out() -> dict:
    return synth(CPU_MODEL, GPU_MODEL)


def deployment(out: dict, model: str) -> dict:
    return next(d for d in out["resource"]["kubernetes_deployment_v1"].values() if d["metadata"]["name"] == f"model-{model}")


def pod(out: dict, model: str) -> dict:
    return deployment(out, model)["spec"]["template"]["spec"]


def test_hpa_owned_deployments_set_no_replicas(out):
    for model in ("bert-base", "gpt-j"):
        d = deployment(out, model)
        assert "replicas" not in d["spec"]
        assert d["lifecycle"]["ignore_changes"] == ["spec[0].replicas"]
    hpas = {h["metadata"]["name"]: h["spec"] for h in out["resource"]["kubernetes_horizontal_pod_autoscaler_v2"].values()}
    assert hpas["model-bert-base"]["scale_target_ref"]["kind"] == "Deployment"
    assert (hpas["model-bert-base"]["min_replicas"], hpas["model-bert-base"]["max_replicas"]) == (2, 10)


def test_hpa_scales_on_cpu_and_memory_with_scale_down_stabilisation(out):
    spec = next(iter(out["resource"]["kubernetes_horizontal_pod_autoscaler_v2"].values()))["spec"]
    targets = {m["resource"]["name"]: m["resource"]["target"] for m in spec["metric"]}
    assert targets == {
        "cpu": {"type": "Utilization", "average_utilization": 70},
        "memory": {"type": "Utilization", "average_utilization": 80},
    }
    assert spec["behavior"]["scale_down"][0]["stabilization_window_seconds"] == 300


def test_gpu_toleration_and_node_selector_match_the_gpu_node_group(out):
    spec = pod(out, "gpt-j")
    assert spec["toleration"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["node_selector"]["nvidia.com/gpu"] == "true"
    resources = spec["container"][0]["resources"]
    assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"] == "1"


def test_gpu_contract_is_the_gpu_node_group_taint_and_labels():
    from constructs_lib.ai import gpu_node_group as gpu

    assert (md.GPU_TAINT_KEY, md.GPU_TAINT_EFFECT) == (gpu.GPU_TAINT.key, gpu.GPU_TAINT.effect) == ("nvidia.com/gpu", "NoSchedule")
    assert gpu.GPU_LABELS[md.GPU_NODE_LABEL[0]] == md.GPU_NODE_LABEL[1] == "true"


def test_cpu_models_neither_request_nor_tolerate_gpus(out):
    spec = pod(out, "bert-base")
    assert "toleration" not in spec
    assert "nvidia.com/gpu" not in spec["node_selector"]
    assert "nvidia.com/gpu" not in spec["container"][0]["resources"]["requests"]


def test_security_context_is_restrictive(out):
    for model in ("bert-base", "gpt-j"):
        spec = pod(out, model)
        assert spec["automount_service_account_token"] is False
        assert spec["security_context"]["run_as_non_root"] is True
        assert spec["security_context"]["seccomp_profile"] == {"type": "RuntimeDefault"}
        (container,) = spec["container"]
        sc = container["security_context"]
        assert sc["run_as_non_root"] is True
        assert sc["run_as_user"] != "0"
        assert sc["allow_privilege_escalation"] is False
        assert sc["privileged"] is False
        assert sc["read_only_root_filesystem"] is True
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert sc["seccomp_profile"] == {"type": "RuntimeDefault"}
        # The read-only root filesystem needs a bounded writable /tmp.
        assert container["volume_mount"] == [{"name": "tmp", "mount_path": "/tmp"}]


def test_namespace_enforces_the_restricted_pod_security_profile(out):
    namespaces = {n["metadata"]["name"]: n["metadata"]["labels"] for n in out["resource"]["kubernetes_namespace_v1"].values()}
    assert set(namespaces) == {"model-bert-base", "model-gpt-j"}
    assert all(labels["pod-security.kubernetes.io/enforce"] == "restricted" for labels in namespaces.values())


def test_probes_on_health_port_8080(out):
    (container,) = pod(out, "bert-base")["container"]
    assert container["port"] == [{"name": "http", "container_port": 8080, "protocol": "TCP"}]
    for probe in ("startup_probe", "readiness_probe", "liveness_probe"):
        assert container[probe]["http_get"] == {"path": "/health", "port": "http"}
    # 600 s of model loading before liveness may restart the pod.
    assert container["startup_probe"]["failure_threshold"] * container["startup_probe"]["period_seconds"] == 600


def test_dedicated_service_account_without_api_token(out):
    accounts = {a["metadata"]["name"]: a for a in out["resource"]["kubernetes_service_account_v1"].values()}
    assert set(accounts) == {"model-bert-base", "model-gpt-j"}
    assert all(a["automount_service_account_token"] is False for a in accounts.values())
    assert "annotations" not in accounts["model-bert-base"]["metadata"]
    assert pod(out, "bert-base")["service_account_name"].startswith("${kubernetes_service_account_v1.")


def test_irsa_role_is_annotated_on_the_service_account():
    role = "arn:aws:iam::111111111111:role/sophia-ai-bert-base-model-dev"
    out = synth(replace(CPU_MODEL, iam_role_arn=role))
    (account,) = out["resource"]["kubernetes_service_account_v1"].values()
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role}


def test_labels_and_pinned_image(out):
    d = deployment(out, "gpt-j")
    labels = d["spec"]["template"]["metadata"]["labels"]
    assert (labels["app"], labels["version"], labels["environment"]) == ("model-gpt-j", "1.0.0", "dev")
    assert d["spec"]["selector"]["match_labels"] == {"app": "model-gpt-j"}
    assert d["spec"]["template"]["spec"]["container"][0]["image"].endswith("@sha256:" + "a" * 64)


def test_cluster_ip_service_80_to_8080(out):
    services = {s["metadata"]["name"]: s["spec"] for s in out["resource"]["kubernetes_service_v1"].values()}
    spec = services["model-bert-base"]
    assert spec["type"] == "ClusterIP"
    assert spec["port"] == [{"name": "http", "port": 80, "target_port": "http", "protocol": "TCP"}]
    assert spec["selector"] == {"app": "model-bert-base"}


def test_pdb_only_where_enabled(out):
    pdbs = list(out["resource"]["kubernetes_pod_disruption_budget_v1"].values())
    assert [p["metadata"]["name"] for p in pdbs] == ["model-gpt-j"]
    assert pdbs[0]["spec"]["max_unavailable"] == "1"
    assert pdbs[0]["spec"]["selector"]["match_labels"] == {"app": "model-gpt-j"}


def test_endpoint_output():
    stack = TerraformStack(CdktfTesting.app(), "test")
    m = ModelDeployment(stack, "bert", CPU_MODEL)
    assert m.service_name == "model-bert-base"
    assert m.endpoint == "http://model-bert-base.model-bert-base.svc.cluster.local/api/models/bert-base"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"min_replicas": 11}, "min_replicas must be <= max_replicas, got min_replicas=11, max_replicas=10"),
        ({"image": f"{IMAGE}:latest"}, "image must be pinned by an immutable tag or a digest"),
        ({"image": IMAGE}, "image must be pinned by an immutable tag or a digest"),
        ({"model_name": "GPT_J"}, "model_name must be an RFC 1123 label"),
        ({"cpu_limit": "250m"}, "cpu_limit '250m' must be >= cpu_request '500m'"),
        ({"memory_limit": "512Mi"}, "memory_limit '512Mi' must be >= memory_request '1Gi'"),
        ({"memory_request": "1GB"}, "memory_request is not a Kubernetes quantity, got '1GB'"),
        ({"cpu_target_percent": 0}, "cpu_target_percent must be 1..100, got 0"),
        ({"run_as_user": 0}, "run_as_user must be a non-root UID"),
        ({"iam_role_arn": "sophia-model-role"}, "iam_role_arn must be an IAM role ARN, got 'sophia-model-role'"),
    ],
)
def test_invalid_props_are_rejected_with_the_value(change, message):
    with pytest.raises(ValidationError, match=message):
        ModelDeployment(TerraformStack(CdktfTesting.app(), "t"), "m", replace(CPU_MODEL, **change))

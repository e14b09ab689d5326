"""NvidiaDevicePlugin: runs on exactly the GPU nodes, pinned, with one host path and no privileges."""

from __future__ import annotations

import json

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting  # not "Testing": pytest would try to collect it

from constructs_lib.ai.gpu_node_group import GPU_LABELS, GPU_TAINT
from constructs_lib.ai.nvidia_device_plugin import DEFAULT_IMAGE, NvidiaDevicePlugin, NvidiaDevicePluginProps
from constructs_lib.errors import ValidationError
from constructs_lib.providers import k8s


@pytest.fixture(scope="module")
def spec() -> dict:
    stack = TerraformStack(CdktfTesting.app(), "test")
    k8s.provider.KubernetesProvider(stack, "kubernetes", host="https://example.invalid")
    NvidiaDevicePlugin(stack, "plugin")
    out = json.loads(CdktfTesting.synth(stack))
    (daemon_set,) = out["resource"]["kubernetes_daemon_set_v1"].values()
    assert daemon_set["metadata"]["namespace"] == "kube-system"
    return daemon_set["spec"]["template"]["spec"]


def test_runs_on_gpu_nodes_only_and_tolerates_their_taint(spec):
    assert spec["node_selector"] == {"nvidia.com/gpu": GPU_LABELS["nvidia.com/gpu"]}
    assert spec["toleration"] == [{"key": GPU_TAINT.key, "operator": "Exists", "effect": GPU_TAINT.effect}]
    assert spec["priority_class_name"] == "system-node-critical"


def test_pinned_image_and_no_privileges(spec):
    (container,) = spec["container"]
    assert container["image"] == DEFAULT_IMAGE
    sc = container["security_context"]
    assert sc["allow_privilege_escalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in sc
    assert [v["host_path"]["path"] for v in spec["volume"]] == ["/var/lib/kubelet/device-plugins"]


@pytest.mark.parametrize("image", ["nvcr.io/nvidia/k8s-device-plugin:latest", "nvcr.io/nvidia/k8s-device-plugin"])
def test_unpinned_image_is_rejected(image):
    with pytest.raises(ValidationError, match=f"image must be pinned to a release tag .*got '{image}'"):
        NvidiaDevicePlugin(TerraformStack(CdktfTesting.app(), "t"), "p", NvidiaDevicePluginProps(image=image))

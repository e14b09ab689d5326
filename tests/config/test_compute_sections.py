"""The eks and gpu_nodes config sections: bad values fail at load with the field and value."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from pydantic import ValidationError

import sophia_config as config
from constructs_lib.ai.gpu_node_group_props import GPU_ROOT_VOLUME
from constructs_lib.compute.managed_node_group_props import RootVolume
from sophia_config.sections.eks import EksConfig
from sophia_config.sections.gpu_nodes import GpuNodesConfig
from tests.conftest import load_yaml

ROOT = Path(__file__).resolve().parents[2]


def section(env: str, name: str) -> dict:
    return load_yaml((ROOT / "config" / f"{env}.yaml").read_text())[name]


def test_environments_differ_only_in_data():
    app = config.load(ROOT / "config")
    gpu = {env.name: env.config.gpu_nodes for env in app.environments}
    assert gpu["production"].capacity_type == "ON_DEMAND"
    assert gpu["dev"].capacity_type == "SPOT"
    assert gpu["production"].max_size > gpu["dev"].max_size
    for env in app.environments:
        eks = env.config.eks
        assert eks.endpoint_public_access is False
        assert eks.addons.kube_proxy.startswith(f"v{eks.kubernetes_version}.")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(endpoint_public_access=True, public_access_cidrs=[]), "public_access_cidrs must list"),
        (lambda d: d.update(endpoint_public_access=True, public_access_cidrs=["0.0.0.0/0"]), "must not be open to the whole internet"),
        (lambda d: d.update(public_access_cidrs=["198.51.100.0/24"]), "must be empty when endpoint_public_access is false"),
        (lambda d: d["addons"].update(kube_proxy="v1.32.6-eksbuild.8"), "'v1.32.6-eksbuild.8' does not match kubernetes_version '1.33'"),
        (lambda d: d["cluster_autoscaler"].update(version="v1.32.4"), "cluster_autoscaler.version 'v1.32.4' does not match kubernetes_version '1.33'"),
        (lambda d: d["cluster_autoscaler"].update(version="1.33.6"), "String should match pattern"),
        (lambda d: d["addons"].update(coredns="latest"), "String should match pattern"),
        (lambda d: d["addons"].update(amazon_cloudwatch_observability="v6.0.1-eksbuild.1"), "use a version below v6"),
        (lambda d: d.update(log_types=["api", "api"]), "log_types must not repeat"),
        # The cluster's administrators come from the account baseline, not configuration.
        (lambda d: d.update(admin_role_arns=["arn:aws:iam::111111111111:role/x"]), "Extra inputs are not permitted"),
        (lambda d: d.update(kubernetes_version=1.33), "Input should be a valid string"),
    ],
)
def test_bad_eks_values_are_refused(change, message):
    data = copy.deepcopy(section("dev", "eks"))
    change(data)
    with pytest.raises(ValidationError, match=message):
        EksConfig.model_validate(data)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(min_size=2, desired_size=1, max_size=2), "got min_size=2, desired_size=1, max_size=2"),
        (lambda d: d.update(desired_size=3, max_size=2), "got min_size=0, desired_size=3, max_size=2"),
        (lambda d: d.update(capacity_type="RESERVED"), "Input should be 'ON_DEMAND' or 'SPOT'"),
        (lambda d: d.update(ami_type="AL2_x86_64_GPU"), "Input should be 'AL2023_x86_64_NVIDIA'"),
        (lambda d: d["root_volume"].update(iops=100), "greater than or equal to 3000"),
        (lambda d: d["root_volume"].update(size_gib=10), "greater than or equal to 20"),
        (lambda d: d["root_volume"].update(size_gib="100"), "valid integer"),
        (lambda d: d["root_volume"].update(kms_key_arn="arn:aws:kms:us-west-2:111111111111:key/x"), "Extra inputs"),
        (lambda d: d["root_volume"].update(size_gib=20, iops=16000), "iops 16000 exceeds 500 IOPS per GiB of a 20 GiB"),
        (lambda d: d.update(instance_types=[]), "at least 1 item"),
    ],
)
def test_bad_gpu_node_values_are_refused(change, message):
    data = copy.deepcopy(section("dev", "gpu_nodes"))
    change(data)
    with pytest.raises(ValidationError, match=message):
        GpuNodesConfig.model_validate(data)


def test_root_volume_is_the_librarys_value_with_the_gpu_default():
    # The config does not rebuild a RootVolume field by field: it loads one, with the
    # library's limits, and a mapping that names one field keeps GPU_ROOT_VOLUME's others.
    data = copy.deepcopy(section("production", "gpu_nodes"))
    assert GpuNodesConfig.model_validate(data).root_volume == RootVolume(size_gib=200, iops=6000, throughput_mibps=250)
    data["root_volume"] = {"iops": 4000}
    volume = GpuNodesConfig.model_validate(data).root_volume
    assert volume == RootVolume(size_gib=GPU_ROOT_VOLUME.size_gib, iops=4000, throughput_mibps=GPU_ROOT_VOLUME.throughput_mibps)
    del data["root_volume"]
    assert GpuNodesConfig.model_validate(data).root_volume is GPU_ROOT_VOLUME

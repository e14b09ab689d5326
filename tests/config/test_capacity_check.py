"""The synthesis-time capacity check: every model's HPA maximum (and the rollout's surge pod)
must fit the node group it can schedule on, or loading the configuration fails with the
file, the field, the environment, the model and the numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sophia_config as config
from constructs_lib.compute.capacity import ROLLOUT_SURGE_PODS, NodeGroupCapacity, PodRequests
from sophia_config import ConfigError
from tests.config import test_model
from tests.conftest import ROOT

# The configuration tests' YAML editor (their copy of config/ is the conftest's config_dir).
edit = test_model.edit


def problems(config_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config.load(config_dir)
    return info.value.problems


def model(data: dict, name: str) -> dict:
    return next(m for m in data["models"] if m["name"] == name)


@pytest.mark.parametrize("env", ["dev", "staging", "production"])
def test_the_committed_environments_fit(env):
    cfg = config.load(ROOT / "config").environment(env).config
    general = NodeGroupCapacity((cfg.compute.instance_sizes.api, cfg.compute.instance_sizes.worker), cfg.compute.autoscaling.max)
    gpu = NodeGroupCapacity(tuple(cfg.gpu_nodes.instance_types), cfg.gpu_nodes.max_size)
    for m in cfg.models:
        pod = PodRequests.of(m.resources.cpu_request, m.resources.memory_request, gpus=int(m.gpu_enabled))
        assert m.max_replicas + ROLLOUT_SURGE_PODS <= (gpu if m.gpu_enabled else general).max_pods(pod), m.name


def test_dev_as_it_was_is_refused_with_the_environment_the_model_and_the_numbers(config_dir):
    # Before this check: gpt-j up to 3 replicas of a 1-GPU pod, at most 2 GPU nodes.
    def as_it_was(d):
        model(d, "gpt-j")["max_replicas"] = 3
        d["gpu_nodes"]["max_size"] = 2

    path = edit(config_dir, "dev.yaml", as_it_was)
    (problem,) = problems(config_dir)
    assert problem.startswith(f"{path}: models[2].max_replicas: model 'gpt-j' in environment 'dev' ")
    for number in (
        "can need 4 pods (max_replicas 3 + 1 rollout surge)",
        "of 2 CPU, 10Gi memory, 1 GPU each",
        "holds at most 2 (gpu_nodes.max_size 2 x 1 per g4dn.xlarge node",
        "allocatable 3920m CPU, 15710Mi memory, 1 GPU",
        "lower max_replicas to 1 or raise gpu_nodes.max_size to 4",
    ):
        assert number in problem
    assert problem.endswith("(value 3)")


@pytest.mark.parametrize("max_replicas, max_size, fits", [(2, 3, True), (3, 3, False), (3, 4, True), (1, 2, True), (2, 2, False)])
def test_a_gpu_model_fits_exactly_when_replicas_and_the_surge_pod_have_a_node_each(config_dir, max_replicas, max_size, fits):
    def change(d):
        model(d, "gpt-j")["max_replicas"] = max_replicas
        d["gpu_nodes"]["max_size"] = max_size
        d["gpu_nodes"]["desired_size"] = min(d["gpu_nodes"]["desired_size"], max_size)

    edit(config_dir, "dev.yaml", change)
    if fits:
        config.load(config_dir)
    else:
        assert "model 'gpt-j'" in problems(config_dir)[0]


def test_a_cpu_model_is_checked_against_the_general_node_group(config_dir):
    # staging: c5.large (1930m allocatable) holds one 1-CPU pod; 5 nodes at most.
    path = edit(config_dir, "staging.yaml", lambda d: model(d, "bert-base").__setitem__("max_replicas", 5))
    (problem,) = problems(config_dir)
    assert problem.startswith(f"{path}: models[0].max_replicas: model 'bert-base' in environment 'staging'")
    assert "the general node group holds at most 5 (compute.autoscaling.max 5 x 1 per c5.large node" in problem
    assert "raise compute.autoscaling.max to 6" in problem


def test_a_pod_bigger_than_any_node_is_refused(config_dir):
    path = edit(config_dir, "production.yaml", lambda d: model(d, "gpt-j")["resources"].update(memory_request="80Gi", memory_limit="80Gi"))
    (problem,) = problems(config_dir)
    assert problem.startswith(f"{path}: models[2].resources: model 'gpt-j': one pod (4 CPU, 80Gi memory, 1 GPU) does not fit")
    assert "g4dn.4xlarge node of the GPU node group (allocatable 15890m CPU, 64862Mi memory, 1 GPU)" in problem


def test_an_instance_type_missing_from_the_table_is_refused_by_field(config_dir):
    path = edit(config_dir, "dev.yaml", lambda d: d["gpu_nodes"]["instance_types"].append("g6.xlarge"))
    (problem,) = problems(config_dir)
    assert re.match(rf"{re.escape(str(path))}: gpu_nodes.instance_types\[3\]: instance type 'g6.xlarge' is not in the instance table", problem)


def test_gpus_per_node_must_be_what_the_instance_types_have(config_dir):
    path = edit(config_dir, "dev.yaml", lambda d: d["gpu_nodes"].__setitem__("gpus_per_node", 4))
    found = problems(config_dir)
    assert any(p.startswith(f"{path}: gpu_nodes.gpus_per_node: g4dn.xlarge has 1 GPU(s), but the autoscaler is told 4") for p in found)

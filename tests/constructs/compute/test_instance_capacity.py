"""The instance table, what a node gives pods, and how many pods of one shape a node group holds."""

from __future__ import annotations

import itertools

import pytest

import sophia_config as config
from constructs_lib.compute.capacity import NodeGroupCapacity, PodRequests, pods_per_node
from constructs_lib.compute.instance_types import INSTANCE_TYPES, UnknownInstanceType, instance_spec
from constructs_lib.quantities import MIB
from tests.conftest import ROOT


def test_every_instance_type_the_environments_use_is_in_the_table():
    for env in config.load(ROOT / "config").environments:
        sizes, gpu = env.config.compute.instance_sizes, env.config.gpu_nodes
        for instance_type in (sizes.api, sizes.worker, *gpu.instance_types):
            assert instance_spec(instance_type).vcpus >= 2
        for instance_type in gpu.instance_types:
            assert instance_spec(instance_type).gpus == gpu.gpus_per_node


def test_an_unknown_instance_type_is_refused_with_its_name():
    with pytest.raises(UnknownInstanceType, match=r"instance type 'm7i.large' is not in the instance table .*known: c5.2xlarge"):
        instance_spec("m7i.large")


@pytest.mark.parametrize("vcpus, reserved", [(2, 70), (4, 80), (8, 90), (16, 110)])
def test_kube_reserved_cpu_follows_the_eks_ami_ranges(vcpus, reserved):
    # 6% of the first core, 1% of the second, 0.5% of cores 3-4, 0.25% of the rest.
    expected = 60 + 10 + 5 * min(max(vcpus - 2, 0), 2) + 2.5 * max(vcpus - 4, 0)
    assert reserved == expected
    spec = next(s for s in INSTANCE_TYPES.values() if s.vcpus == vcpus)
    assert spec.allocatable().cpu_millis == vcpus * 1000 - reserved


@pytest.mark.parametrize("instance_type", sorted(INSTANCE_TYPES))
def test_allocatable_memory_is_capacity_less_kube_reserved_and_the_eviction_threshold(instance_type):
    spec = instance_spec(instance_type)
    node = spec.allocatable()
    assert node.memory_bytes == (spec.memory_mib - 255 - 11 * spec.max_pods - 100) * MIB
    assert 0 < node.memory_bytes < spec.memory_mib * MIB and node.gpus == spec.gpus and node.pods == spec.max_pods


SHAPES = [
    PodRequests.of(cpu, memory, gpus)
    for cpu, memory, gpus in itertools.product(("100m", "500m", "1", "2", "4", "7"), ("256Mi", "1Gi", "10Gi", "24Gi", "60Gi"), (0, 1))
]


@pytest.mark.parametrize("instance_type", sorted(INSTANCE_TYPES))
def test_pods_per_node_is_the_most_that_fit_and_never_more(instance_type):
    node = instance_spec(instance_type).allocatable()
    for pod in SHAPES:
        n = pods_per_node(instance_type, pod)
        used = (n * pod.cpu_millis, n * pod.memory_bytes, n * pod.gpus, n)
        assert used[0] <= node.cpu_millis and used[1] <= node.memory_bytes and used[2] <= node.gpus and used[3] <= node.pods
        # One more would break at least one limit (so n is the maximum).
        more = ((n + 1) * pod.cpu_millis, (n + 1) * pod.memory_bytes, (n + 1) * pod.gpus, n + 1)
        assert more[0] > node.cpu_millis or more[1] > node.memory_bytes or more[2] > node.gpus or more[3] > node.pods, pod


def test_a_gpu_pod_never_fits_a_node_without_gpus():
    assert pods_per_node("c5.2xlarge", PodRequests.of("100m", "256Mi", gpus=1)) == 0


def test_a_group_is_counted_on_its_smallest_type():
    pod = PodRequests.of("2", "10Gi")
    group = NodeGroupCapacity(("g4dn.2xlarge", "g4dn.xlarge"), max_size=2)
    assert pods_per_node("g4dn.2xlarge", pod) == 3
    assert group.smallest_for(pod) == ("g4dn.xlarge", 1)
    assert group.max_pods(pod) == 2
    cpu_pod = PodRequests.of("1", "2Gi")
    assert NodeGroupCapacity(("c5.large", "c5.xlarge"), 5).max_pods(cpu_pod) == 5 * pods_per_node("c5.large", cpu_pod)

"""How many pods of one shape a node group can ever hold: the arithmetic behind the
synthesis-time capacity check (``sophia_config/model.py``), on the facts of
:mod:`constructs_lib.compute.instance_types`.

A pod lands on one node, so a group's capacity is counted in whole pods per node (the
smallest of its instance types: the autoscaler may launch any of them) times its maximum
size, not as pooled CPU and memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.compute.instance_types import NodeResources, instance_spec
from constructs_lib.quantities import cpu_millis, format_cpu, format_memory, memory_bytes

# ModelDeployment rolls out with maxSurge 1 / maxUnavailable 0: at the HPA's maximum a
# rollout starts one pod more before it stops an old one, so that pod must fit too.
# ModelDeployment reads this constant, so the check and the Deployment cannot disagree.
ROLLOUT_SURGE_PODS = 1


@dataclass(frozen=True)
class PodRequests:
    """What one pod asks the scheduler for."""

    cpu_millis: float
    memory_bytes: int
    gpus: int = 0

    @classmethod
    def of(cls, cpu: str, memory: str, gpus: int = 0) -> PodRequests:
        """From Kubernetes quantities, e.g. ``PodRequests.of("2", "10Gi", gpus=1)``."""
        return cls(cpu_millis(cpu), memory_bytes(memory), gpus)

    def __str__(self) -> str:
        text = f"{format_cpu(self.cpu_millis)} CPU, {format_memory(self.memory_bytes)} memory"
        return text + (f", {self.gpus} GPU" if self.gpus else "")


def describe(node: NodeResources) -> str:
    """``"3920m CPU, 15710Mi memory, 1 GPU"``: what a node gives pods, for messages."""
    text = f"{format_cpu(node.cpu_millis)} CPU, {format_memory(node.memory_bytes)} memory"
    return text + (f", {node.gpus} GPU" if node.gpus else "")


def pods_per_node(instance_type: str, pod: PodRequests) -> int:
    """Pods of shape ``pod`` that fit on one node of ``instance_type`` (0: not even one)."""
    node = instance_spec(instance_type).allocatable()
    fits = [node.pods, int(node.cpu_millis // pod.cpu_millis), node.memory_bytes // pod.memory_bytes]
    if pod.gpus:
        fits.append(node.gpus // pod.gpus)
    return max(0, min(fits))


@dataclass(frozen=True)
class NodeGroupCapacity:
    """A node group as the autoscaler may grow it: any of its instance types, up to ``max_size``."""

    instance_types: tuple[str, ...]
    max_size: int

    def smallest_for(self, pod: PodRequests) -> tuple[str, int]:
        """The instance type that holds the fewest ``pod``s, and how many."""
        return min(((t, pods_per_node(t, pod)) for t in self.instance_types), key=lambda item: item[1])

    def max_pods(self, pod: PodRequests) -> int:
        """Pods of shape ``pod`` the group holds at ``max_size`` nodes of its smallest type."""
        return self.max_size * self.smallest_for(pod)[1]

"""The node groups have room for the models: each model's HPA maximum, plus the rollout's
surge pod, fits the node group it schedules on (tests/config/test_capacity_check.py)."""

from __future__ import annotations

from constructs_lib.compute.capacity import ROLLOUT_SURGE_PODS, NodeGroupCapacity, PodRequests, describe
from constructs_lib.compute.instance_types import INSTANCE_TYPES, instance_spec
from sophia_config.model import Environment


def check_capacity(env: Environment) -> list[str]:
    """Every model's HPA maximum (plus the rollout's surge pod) must fit the node group it
    can schedule on at that group's maximum size: GPU models the GPU node group, the
    others the general node group (GPU nodes are tainted). Counted in whole pods per node
    of the group's smallest instance type (constructs_lib/compute/capacity.py). Each model
    is checked alone: models sharing a group, system pods and DaemonSets need room too."""
    cfg, source = env.config, env.source
    sizes, gpu = cfg.compute.instance_sizes, cfg.gpu_nodes
    type_fields = {
        False: {"compute.instance_sizes.api": sizes.api, "compute.instance_sizes.worker": sizes.worker},
        True: {f"gpu_nodes.instance_types[{i}]": t for i, t in enumerate(gpu.instance_types)},
    }
    problems = [
        f"{source}: {field}: instance type {value!r} is not in the instance table "
        f"(constructs_lib/compute/instance_types.py), so no capacity can be checked: add its row (value {value!r})"
        for fields in type_fields.values()
        for field, value in fields.items()
        if value not in INSTANCE_TYPES
    ]
    for value in dict.fromkeys(gpu.instance_types):
        if value in INSTANCE_TYPES and instance_spec(value).gpus != gpu.gpus_per_node:
            problems.append(
                f"{source}: gpu_nodes.gpus_per_node: {value} has {instance_spec(value).gpus} GPU(s), but the autoscaler "
                f"is told {gpu.gpus_per_node} (value {gpu.gpus_per_node})"
            )
    groups = {
        False: ("the general node group", "compute.autoscaling.max", cfg.compute.autoscaling.max),
        True: ("the GPU node group", "gpu_nodes.max_size", gpu.max_size),
    }
    for index, model in enumerate(cfg.models):
        types = tuple(dict.fromkeys(type_fields[model.gpu_enabled].values()))
        if any(t not in INSTANCE_TYPES for t in types):
            continue
        label, size_field, max_size = groups[model.gpu_enabled]
        res = model.resources
        pod = PodRequests.of(res.cpu_request, res.memory_request, gpus=1 if model.gpu_enabled else 0)
        smallest, per_node = NodeGroupCapacity(types, max_size).smallest_for(pod)
        node = describe(instance_spec(smallest).allocatable())
        if per_node == 0:
            problems.append(
                f"{source}: models[{index}].resources: model {model.name!r}: one pod ({pod}) does not fit on a "
                f"{smallest} node of {label} (allocatable {node}) (value {res.cpu_request}/{res.memory_request})"
            )
            continue
        needed, capacity = model.max_replicas + ROLLOUT_SURGE_PODS, max_size * per_node
        if needed > capacity:
            fixes = [f"raise {size_field} to {-(-needed // per_node)}"]
            if capacity - ROLLOUT_SURGE_PODS >= model.min_replicas:
                fixes.insert(0, f"lower max_replicas to {capacity - ROLLOUT_SURGE_PODS}")
            problems.append(
                f"{source}: models[{index}].max_replicas: model {model.name!r} in environment {env.name!r} can need "
                f"{needed} pods (max_replicas {model.max_replicas} + {ROLLOUT_SURGE_PODS} rollout surge) of {pod} each, "
                f"but {label} holds at most {capacity} ({size_field} {max_size} x {per_node} per {smallest} node, "
                f"allocatable {node}): {' or '.join(fixes)} (value {model.max_replicas})"
            )
    return problems

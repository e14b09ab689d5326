"""GpuNodeGroup: IMDSv2, supported NVIDIA AMI, taint and labels, autoscaler-owned size, no S3 access of its own."""

from __future__ import annotations

import json

import pytest
from cdktf import TerraformStack, Testing

from constructs_lib.ai.gpu_node_group import GPU_LABELS, GPU_TAINT, GpuNodeGroup
from constructs_lib.ai.gpu_node_group_props import GpuNodeGroupProps
from constructs_lib.compute.managed_node_group_props import RootVolume
from constructs_lib.errors import ValidationError
from tests.constructs.support import eks_cluster

PROPS = dict(
    node_group_name="sophia-ai-gpu-ng-dev",
    node_role_name="sophia-ai-gpu-node-role-dev",
    subnet_ids=["subnet-a", "subnet-b"],
    instance_types=("g4dn.xlarge", "g5.xlarge"),
    capacity_type="SPOT",
    min_size=0,
    max_size=3,
    desired_size=1,
    root_volume=RootVolume(size_gib=200, iops=6000, throughput_mibps=250),
    instance_tags={"Project": "sophia", "Environment": "dev"},
)


def synth(**overrides) -> dict:
    """The GPU group's stack; the cluster lives in a stack of its own, as in the app (compute, ai-ml)."""
    app = Testing.app()
    cluster = eks_cluster(TerraformStack(app, "compute"))
    stack = TerraformStack(app, "test")
    GpuNodeGroup(stack, "gpu", GpuNodeGroupProps(cluster=cluster, **{**PROPS, **overrides}))
    return json.loads(Testing.synth(stack))


def only(resources: dict) -> dict:
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.values()))


def documents(out: dict) -> list[dict]:
    return list(out["data"]["aws_iam_policy_document"].values())


@pytest.fixture(scope="module")
def out() -> dict:
    return synth()


def test_imdsv2_is_required_with_a_deliberate_hop_limit(out):
    options = only(out["resource"]["aws_launch_template"])["metadata_options"]
    assert options["http_tokens"] == "required"
    assert options["http_endpoint"] == "enabled"
    # 1: model servers have IRSA roles; no container needs the node role's credentials.
    assert options["http_put_response_hop_limit"] == 1
    raised = synth(imds_hop_limit=2)
    assert only(raised["resource"]["aws_launch_template"])["metadata_options"]["http_put_response_hop_limit"] == 2


def test_no_amazon_linux_2_ami_and_no_bootstrap_script(out):
    node_group = only(out["resource"]["aws_eks_node_group"])
    assert node_group["ami_type"] == "AL2023_x86_64_NVIDIA"
    text = json.dumps(out)
    assert '"AL2_' not in text and "bootstrap.sh" not in text
    template = only(out["resource"]["aws_launch_template"])
    assert "user_data" not in template and "image_id" not in template


def test_joins_the_cluster_with_its_name_and_both_node_security_groups(out):
    node_group = only(out["resource"]["aws_eks_node_group"])
    assert node_group["cluster_name"].startswith("${aws_eks_cluster.") and node_group["cluster_name"].endswith(".name}")
    cluster_sg, node_sg = only(out["resource"]["aws_launch_template"])["vpc_security_group_ids"]
    assert cluster_sg.endswith(".vpc_config[0].cluster_security_group_id}")
    assert node_sg.startswith("${aws_security_group.") and node_sg.endswith(".id}")


def test_gpu_labels_and_no_schedule_taint(out):
    node_group = only(out["resource"]["aws_eks_node_group"])
    assert node_group["labels"] == {"nvidia.com/gpu": "true", "workload-type": "ml"}
    assert node_group["taint"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert dict(GPU_LABELS) == node_group["labels"]
    assert (GPU_TAINT.key, GPU_TAINT.value, GPU_TAINT.effect) == ("nvidia.com/gpu", "true", "NoSchedule")


def test_desired_size_is_ignored_after_creation(out):
    node_group = only(out["resource"]["aws_eks_node_group"])
    assert node_group["lifecycle"]["ignore_changes"] == ["scaling_config[0].desired_size"]
    assert node_group["scaling_config"] == {"min_size": 0, "desired_size": 1, "max_size": 3}
    assert node_group["update_config"]["max_unavailable_percentage"] >= 1


def test_capacity_and_instance_types_come_from_the_arguments(out):
    node_group = only(out["resource"]["aws_eks_node_group"])
    assert node_group["capacity_type"] == "SPOT"
    assert node_group["instance_types"] == ["g4dn.xlarge", "g5.xlarge"]
    on_demand = synth(capacity_type="ON_DEMAND")
    assert only(on_demand["resource"]["aws_eks_node_group"])["capacity_type"] == "ON_DEMAND"


def test_root_volume_is_encrypted_gp3_sized_by_arguments(out):
    (device,) = only(out["resource"]["aws_launch_template"])["block_device_mappings"]
    assert device["device_name"] == "/dev/xvda"
    assert device["ebs"] == {
        "volume_type": "gp3",
        "volume_size": 200,
        "iops": 6000,
        "throughput": 250,
        "encrypted": "true",
        "delete_on_termination": "true",
    }


def test_bottlerocket_sizes_its_data_volume():
    out = synth(ami_type="BOTTLEROCKET_x86_64_NVIDIA")
    (device,) = only(out["resource"]["aws_launch_template"])["block_device_mappings"]
    assert device["device_name"] == "/dev/xvdb"


def test_instances_and_volumes_are_tagged(out):
    specs = {s["resource_type"]: s["tags"] for s in only(out["resource"]["aws_launch_template"])["tag_specifications"]}
    for kind in ("instance", "volume"):
        assert specs[kind] == {"Project": "sophia", "Environment": "dev", "Name": "sophia-ai-gpu-ng-dev"}


def test_autoscaler_can_scale_from_zero(out):
    tags = {t["tag"]["key"]: t["tag"]["value"] for t in out["resource"]["aws_autoscaling_group_tag"].values()}
    prefix = "k8s.io/cluster-autoscaler"
    assert tags[f"{prefix}/enabled"] == "true"
    (owned,) = [k for k in tags if k.startswith(f"{prefix}/${{aws_eks_cluster.")]
    assert owned.endswith(".name}") and tags[owned] == "owned"
    assert tags[f"{prefix}/node-template/label/nvidia.com/gpu"] == "true"
    assert tags[f"{prefix}/node-template/label/workload-type"] == "ml"
    assert tags[f"{prefix}/node-template/taint/nvidia.com/gpu"] == "true:NoSchedule"
    assert tags[f"{prefix}/node-template/resources/nvidia.com/gpu"] == "1"


def test_node_role_has_worker_cni_and_ecr_read_policies_only(out):
    arns = sorted(a["policy_arn"].rpartition("/")[2] for a in out["resource"]["aws_iam_role_policy_attachment"].values())
    assert arns == ["AmazonEC2ContainerRegistryReadOnly", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy"]
    assert "AmazonS3ReadOnlyAccess" not in json.dumps(out)


def test_node_role_has_no_inline_policy_of_its_own(out):
    # Bucket access is granted by the bucket's owner (ModelRegistry.grant_read_artifacts).
    assert "aws_iam_role_policy" not in out["resource"]
    assert not any(a.startswith("s3:") for doc in documents(out) for s in doc["statement"] for a in s.get("actions", []))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"min_size": 3, "desired_size": 2, "max_size": 3}, "desired_size 2 must be >= min_size 3"),
        ({"desired_size": 4}, "desired_size 4 must be <= max_size 3"),
        ({"min_size": 5, "desired_size": 5, "max_size": 4}, "min_size 5 must be <= max_size 4"),
        ({"max_size": 0, "desired_size": 0}, "max_size must be >= 1, got 0"),
        ({"ami_type": "AL2_x86_64_GPU"}, "ami_type must be one of .* got 'AL2_x86_64_GPU'"),
        ({"instance_types": ("m5.xlarge",)}, "NVIDIA GPU types .* got 'm5.xlarge'"),
        ({"instance_types": ("g5g.xlarge",)}, "got 'g5g.xlarge'"),
        ({"gpus_per_instance": 0}, "gpus_per_instance must be 1..16, got 0"),
    ],
)
def test_validation_names_the_argument_and_value(overrides, message):
    with pytest.raises(ValidationError, match=message):
        synth(**overrides)

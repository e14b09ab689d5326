"""ManagedNodeGroup and its RootVolume: hardened launch template, least-privilege node role, sizes checked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from constructs_lib.compute.managed_node_group import ManagedNodeGroup
from constructs_lib.compute.managed_node_group_props import ManagedNodeGroupProps, RootVolume, Taint
from constructs_lib.errors import ValidationError
from tests.constructs.support import documents, synth

PROPS = ManagedNodeGroupProps(
    cluster_name="sophia-compute-eks-dev",
    node_group_name="sophia-compute-general-ng-dev",
    node_role_name="sophia-compute-node-role-dev",
    subnet_ids=("subnet-a", "subnet-b"),
    security_group_ids=("sg-cluster", "sg-nodes"),
    instance_types=("t3.medium", "t3.large"),
    min_size=1,
    max_size=5,
    desired_size=2,
    labels={"workload-type": "general"},
    taints=(Taint("dedicated", "general", "PreferNoSchedule"),),
    root_volume=RootVolume(kms_key_arn="arn:aws:kms:us-west-2:111111111111:key/eks"),
)


def build(props: ManagedNodeGroupProps = PROPS) -> dict:
    return synth(lambda stack: ManagedNodeGroup(stack, "nodes", props))


def only(resources: dict) -> dict:
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.values()))


@pytest.fixture(scope="module")
def out() -> dict:
    return build()


def test_imdsv2_only_and_containers_cannot_reach_the_node_role(out):
    options = only(out["resource"]["aws_launch_template"])["metadata_options"]
    assert options["http_tokens"] == "required"
    assert options["http_put_response_hop_limit"] == 1


def test_root_volume_is_encrypted_gp3_with_the_given_key(out):
    (mapping,) = only(out["resource"]["aws_launch_template"])["block_device_mappings"]
    ebs = mapping["ebs"]
    assert mapping["device_name"] == "/dev/xvda"
    assert (ebs["volume_type"], ebs["encrypted"], ebs["delete_on_termination"]) == ("gp3", "true", "true")
    assert ebs["kms_key_id"] == "arn:aws:kms:us-west-2:111111111111:key/eks"
    assert (ebs["volume_size"], ebs["iops"], ebs["throughput"]) == (50, 3000, 125)


def test_node_role_is_for_ec2_with_the_three_node_policies_only(out):
    role = only(out["resource"]["aws_iam_role"])
    ref = role["assume_role_policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
    (trust,) = documents(out)[ref]["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["ec2.amazonaws.com"]}]
    attached = sorted(a["policy_arn"].rsplit("/", 1)[1] for a in out["resource"]["aws_iam_role_policy_attachment"].values())
    assert attached == ["AmazonEC2ContainerRegistryReadOnly", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy"]
    assert "aws_iam_role_policy" not in out["resource"]


def test_the_autoscaler_owns_desired_size_and_sees_labels_and_taints_of_an_empty_group(out):
    group = only(out["resource"]["aws_eks_node_group"])
    assert group["lifecycle"] == {"ignore_changes": ["scaling_config[0].desired_size"]}
    assert group["scaling_config"] == {"min_size": 1, "max_size": 5, "desired_size": 2}
    assert group["taint"] == [{"key": "dedicated", "value": "general", "effect": "PREFER_NO_SCHEDULE"}]
    tags = {t["tag"]["key"]: t["tag"] for t in out["resource"]["aws_autoscaling_group_tag"].values()}
    prefix = "k8s.io/cluster-autoscaler"
    assert tags[f"{prefix}/node-template/label/workload-type"]["value"] == "general"
    assert tags[f"{prefix}/node-template/taint/dedicated"]["value"] == "general:PreferNoSchedule"
    assert tags[f"{prefix}/sophia-compute-eks-dev"]["value"] == "owned"
    assert not any(t["propagate_at_launch"] for t in tags.values())


@pytest.mark.parametrize(
    "change, message",
    [
        ({"ami_type": "AL2_x86_64"}, r"ami_type must be one of .* \(AL2 is end of life\), got 'AL2_x86_64'"),
        ({"capacity_type": "RESERVED"}, "capacity_type must be ON_DEMAND or SPOT, got 'RESERVED'"),
        ({"instance_types": ()}, r"instance_types must list at least one type, got \(\)"),
        ({"instance_types": ("t3.large", "t3.large")}, "instance_types must not repeat a type"),
        ({"desired_size": 6}, "desired_size 6 must be <= max_size 5"),
        ({"imds_hop_limit": 0}, "imds_hop_limit must be 1..64, got 0"),
        ({"max_unavailable_percentage": 0}, "max_unavailable_percentage must be 1..100, got 0"),
        ({"labels": {"bad key!": "x"}}, "label bad key!='x' is not a valid Kubernetes label"),
        ({"taints": (Taint("dedicated", "x", "Never"),)}, "taint 'dedicated' effect must be one of .* got 'Never'"),
        ({"security_group_ids": ()}, "security_group_ids must list the cluster security group"),
    ],
)
def test_bad_props_are_refused_with_the_value(change, message):
    with pytest.raises(ValidationError, match=f"ManagedNodeGroup nodes: {message}"):
        build(replace(PROPS, **change))


@pytest.mark.parametrize(
    "values, message",
    [
        ({"size_gib": 10}, "RootVolume: size_gib must be an integer 20..16384, got 10"),
        ({"iops": 2000}, "RootVolume: iops must be an integer 3000..16000, got 2000"),
        ({"iops": 16001}, "RootVolume: iops must be an integer 3000..16000, got 16001"),
        ({"throughput_mibps": 1001}, "RootVolume: throughput_mibps must be an integer 125..1000, got 1001"),
        ({"size_gib": True}, "RootVolume: size_gib must be an integer 20..16384, got True"),
        ({"size_gib": 20, "iops": 12000}, "iops 12000 exceeds 500 IOPS per GiB of a 20 GiB gp3 volume"),
        ({"iops": 3000, "throughput_mibps": 800}, r"throughput_mibps 800 exceeds 0.25 MiB/s per provisioned IOPS \(3000 IOPS\)"),
    ],
)
def test_root_volume_refuses_what_gp3_refuses_with_the_value(values, message):
    with pytest.raises(ValidationError, match=message):
        RootVolume(**values)


def test_root_volume_accepts_gp3_limits_and_the_baseline_by_default():
    assert RootVolume() == RootVolume(size_gib=50, iops=3000, throughput_mibps=125, kms_key_arn=None)
    RootVolume(size_gib=32, iops=16000, throughput_mibps=1000)  # 500 IOPS/GiB, 0.25 MiB/s per IOPS: the edges

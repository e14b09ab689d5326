"""EksCluster and the general ManagedNodeGroup: private, encrypted, logged, access entries, ordered add-ons."""

from __future__ import annotations

import json
from dataclasses import fields, replace

import pytest
from cdktf import TerraformStack, Testing

from constructs_lib.compute.eks_cluster import Addon, AddonServiceAccount, EksCluster
from constructs_lib.compute.eks_cluster_props import ALL_LOG_TYPES, ClusterAccess, EksClusterProps
from constructs_lib.compute.managed_node_group import ManagedNodeGroup
from constructs_lib.compute.managed_node_group_props import ManagedNodeGroupProps, NodeGroupOptions
from constructs_lib.errors import ValidationError

EKS_KEY = "arn:aws:kms:us-west-2:111111111111:key/eks"
LOGS_KEY = "arn:aws:kms:us-west-2:111111111111:key/logs"
ADMIN = "arn:aws:iam::111111111111:role/sophia-baseline-cluster-admin-role-dev"
VIEWER = "arn:aws:iam::111111111111:role/sophia-baseline-plan-role-dev"

PROPS = EksClusterProps(
    cluster_name="sophia-compute-eks-dev",
    kubernetes_version="1.33",
    vpc_id="vpc-0123",
    subnet_ids=["subnet-a", "subnet-b"],
    role_name="sophia-compute-eks-cluster-role-dev",
    secrets_kms_key_arn=EKS_KEY,
    log_kms_key_arn=LOGS_KEY,
    log_retention_days=30,
    node_security_group_name="sophia-compute-node-sg-dev",
    access=(ClusterAccess("cluster-admin", ADMIN), ClusterAccess("plan", VIEWER, access_policy="AmazonEKSAdminViewPolicy")),
    addons=(
        Addon("vpc-cni", "v1.20.1-eksbuild.3", before_compute=True),
        Addon("kube-proxy", "v1.33.3-eksbuild.6", before_compute=True),
        Addon("coredns", "v1.12.4-eksbuild.1"),
        Addon(
            "aws-ebs-csi-driver",
            "v1.48.0-eksbuild.2",
            service_account=AddonServiceAccount(
                role_name="sophia-compute-ebs-csi-role-dev",
                namespace="kube-system",
                service_account="ebs-csi-controller-sa",
                managed_policies=("service-role/AmazonEBSCSIDriverPolicy",),
            ),
        ),
    ),
)


NODE_OPTIONS = NodeGroupOptions(
    node_group_name="sophia-compute-general-ng-dev",
    node_role_name="sophia-compute-general-node-role-dev",
    subnet_ids=["subnet-a", "subnet-b"],
    instance_types=("t3.medium", "t3.large"),
    min_size=1,
    max_size=5,
    desired_size=2,
    labels={"workload-type": "general"},
    instance_tags={"Project": "sophia"},
)


def node_props(**overrides) -> ManagedNodeGroupProps:
    """A node group built without a cluster object, as ``ManagedNodeGroup`` alone allows."""
    base = ManagedNodeGroupProps(
        **{f.name: getattr(NODE_OPTIONS, f.name) for f in fields(NodeGroupOptions)},
        cluster_name="sophia-compute-eks-dev",
        security_group_ids=["sg-cluster", "sg-nodes"],
    )
    return replace(base, **overrides)


def synth(props: EksClusterProps = PROPS, with_nodes: bool = True) -> dict:
    app = Testing.app()
    stack = TerraformStack(app, "test")
    cluster = EksCluster(stack, "eks", props)
    if with_nodes:
        cluster.add_node_group(stack, "general", NODE_OPTIONS)
    return json.loads(Testing.synth(stack))


def only(resources: dict) -> dict:
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.values()))


def ref(out: dict, resource_type: str, predicate) -> str:
    """``<type>.<logical id>`` of the one resource of ``resource_type`` matching ``predicate``."""
    (logical_id,) = [k for k, v in out["resource"][resource_type].items() if predicate(v)]
    return f"{resource_type}.{logical_id}"


def addon(out: dict, name: str) -> dict:
    return next(a for a in out["resource"]["aws_eks_addon"].values() if a["addon_name"] == name)


@pytest.fixture(scope="module")
def out() -> dict:
    return synth()


# --- control plane ---------------------------------------------------------------------------


def test_endpoint_is_private_by_default(out):
    vpc = only(out["resource"]["aws_eks_cluster"])["vpc_config"]
    assert vpc["endpoint_private_access"] is True
    assert vpc["endpoint_public_access"] is False
    assert "public_access_cidrs" not in vpc


def test_public_endpoint_is_limited_to_the_listed_cidrs():
    out = synth(replace(PROPS, endpoint_public_access=True, public_access_cidrs=("198.51.100.0/24",)), with_nodes=False)
    vpc = only(out["resource"]["aws_eks_cluster"])["vpc_config"]
    assert vpc["endpoint_public_access"] is True
    assert vpc["public_access_cidrs"] == ["198.51.100.0/24"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"endpoint_public_access": True}, "public_access_cidrs must list the allowed sources"),
        ({"endpoint_public_access": True, "public_access_cidrs": ("0.0.0.0/0",)}, "'0.0.0.0/0'"),
        ({"public_access_cidrs": ("198.51.100.0/24",)}, "requires endpoint_public_access=True"),
    ],
)
def test_public_endpoint_misconfigurations_are_refused(overrides, message):
    with pytest.raises(ValidationError, match=message):
        synth(replace(PROPS, **overrides), with_nodes=False)


def test_secrets_are_envelope_encrypted_with_the_eks_key(out):
    encryption = only(out["resource"]["aws_eks_cluster"])["encryption_config"]
    assert encryption == {"provider": {"key_arn": EKS_KEY}, "resources": ["secrets"]}
    # The control plane uses the key as the cluster role: that role may use this key only.
    policy = only(out["resource"]["aws_iam_role_policy"])
    doc_id = policy["policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
    (statement,) = out["data"]["aws_iam_policy_document"][doc_id]["statement"]
    assert statement["resources"] == [EKS_KEY]
    assert "kms:Decrypt" in statement["actions"]


def test_all_control_plane_logs_go_to_an_encrypted_retained_group_created_first(out):
    cluster = only(out["resource"]["aws_eks_cluster"])
    assert cluster["enabled_cluster_log_types"] == list(ALL_LOG_TYPES)
    group = only(out["resource"]["aws_cloudwatch_log_group"])
    assert group["name"] == "/aws/eks/sophia-compute-eks-dev/cluster"
    assert group["kms_key_id"] == LOGS_KEY
    assert group["retention_in_days"] == 30
    assert ref(out, "aws_cloudwatch_log_group", lambda g: True) in cluster["depends_on"]


def test_authentication_uses_access_entries_and_lists_admins(out):
    cluster = only(out["resource"]["aws_eks_cluster"])
    assert cluster["access_config"] == {
        "authentication_mode": "API",
        "bootstrap_cluster_creator_admin_permissions": False,
    }
    entries = out["resource"]["aws_eks_access_entry"]
    assert sorted(e["principal_arn"] for e in entries.values()) == sorted([ADMIN, VIEWER])
    assert {e["type"] for e in entries.values()} == {"STANDARD"}
    # Each role gets the access policy it was given, at cluster scope, and nothing else.
    policies = {}
    for association in out["resource"]["aws_eks_access_policy_association"].values():
        entry = association["principal_arn"].split(".")[1]
        policies[entries[entry]["principal_arn"]] = association["policy_arn"].rpartition("/")[2]
        assert association["access_scope"] == {"type": "cluster"}
    assert policies == {ADMIN: "AmazonEKSClusterAdminPolicy", VIEWER: "AmazonEKSAdminViewPolicy"}
    assert "kubernetes_config_map" not in json.dumps(out)  # no aws-auth ConfigMap


def test_oidc_provider_trusts_the_cluster_issuer_for_sts(out):
    provider = only(out["resource"]["aws_iam_openid_connect_provider"])
    assert provider["url"].endswith(".identity[0].oidc[0].issuer}")
    assert provider["client_id_list"] == ["sts.amazonaws.com"]


def test_ebs_csi_role_is_pinned_to_its_service_account(out):
    role_ref = addon(out, "aws-ebs-csi-driver")["service_account_role_arn"]
    role_id = role_ref.removeprefix("${aws_iam_role.").removesuffix(".arn}")
    role = out["resource"]["aws_iam_role"][role_id]
    doc_id = role["assume_role_policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
    (statement,) = out["data"]["aws_iam_policy_document"][doc_id]["statement"]
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    conditions = {c["variable"].rpartition(":")[2]: c["values"] for c in statement["condition"]}
    assert conditions == {
        "sub": ["system:serviceaccount:kube-system:ebs-csi-controller-sa"],
        "aud": ["sts.amazonaws.com"],
    }


# --- add-on ordering ----------------------------------------------------------------------


def test_networking_addons_come_before_the_node_group_and_the_others_after(out):
    node_group = only(out["resource"]["aws_eks_node_group"])
    node_group_ref = ref(out, "aws_eks_node_group", lambda n: True)
    vpc_cni_ref = ref(out, "aws_eks_addon", lambda a: a["addon_name"] == "vpc-cni")
    kube_proxy_ref = ref(out, "aws_eks_addon", lambda a: a["addon_name"] == "kube-proxy")
    assert vpc_cni_ref in node_group["depends_on"]
    assert kube_proxy_ref in node_group["depends_on"]
    assert node_group_ref not in addon(out, "vpc-cni").get("depends_on", [])
    assert addon(out, "coredns")["depends_on"] == [node_group_ref]
    assert addon(out, "aws-ebs-csi-driver")["depends_on"] == [node_group_ref]


def test_a_node_group_in_a_later_stack_is_ordered_by_the_stacks_not_by_depends_on():
    # A cross-stack depends_on renders as a reference to an output, which Terraform refuses,
    # and the add-ons waiting for it would make the two stacks depend on each other.
    app = Testing.app()
    compute = TerraformStack(app, "compute")
    cluster = EksCluster(compute, "eks", PROPS)
    cluster.add_node_group(compute, "general", NODE_OPTIONS)
    later = TerraformStack(app, "ai")
    gpu = cluster.add_node_group(later, "gpu", replace(NODE_OPTIONS, node_group_name="sophia-ai-gpu-ng-dev", node_role_name="r"))
    assert cluster.node_groups[1] is gpu
    compute_out, later_out = json.loads(Testing.synth(compute)), json.loads(Testing.synth(later))
    node_group = only(later_out["resource"]["aws_eks_node_group"])
    # Only its own role's attachments: nothing of the other stack.
    assert all(d.startswith("aws_iam_role_policy_attachment.") for d in node_group["depends_on"])
    assert node_group["cluster_name"] == "${%s.name}" % ref(compute_out, "aws_eks_cluster", lambda c: True)
    assert len(only(later_out["resource"]["aws_launch_template"])["vpc_security_group_ids"]) == 2
    general_ref = ref(compute_out, "aws_eks_node_group", lambda n: True)
    assert addon(compute_out, "coredns")["depends_on"] == [general_ref]


def test_addon_versions_are_pinned(out):
    versions = {a["addon_name"]: a["addon_version"] for a in out["resource"]["aws_eks_addon"].values()}
    assert versions == {a.name: a.version for a in PROPS.addons}
    unpinned = tuple(replace(a, version="latest") if a.name == "coredns" else a for a in PROPS.addons)
    with pytest.raises(ValidationError, match="coredns version must be pinned.*'latest'"):
        synth(replace(PROPS, addons=unpinned), with_nodes=False)


def test_cluster_networking_addons_are_required_before_compute():
    without_cni = tuple(a for a in PROPS.addons if a.name != "vpc-cni")
    with pytest.raises(ValidationError, match="addons must include 'vpc-cni'"):
        synth(replace(PROPS, addons=without_cni), with_nodes=False)
    late_proxy = tuple(replace(a, before_compute=False) if a.name == "kube-proxy" else a for a in PROPS.addons)
    with pytest.raises(ValidationError, match="kube-proxy must be installed before_compute=True"):
        synth(replace(PROPS, addons=late_proxy), with_nodes=False)


def test_addon_log_groups_are_encrypted_retained_and_created_first():
    groups = ("/aws/containerinsights/sophia-compute-eks-dev/application", "/aws/containerinsights/sophia-compute-eks-dev/performance")
    observability = Addon("amazon-cloudwatch-observability", "v4.1.0-eksbuild.1", log_group_names=groups)
    out = synth(replace(PROPS, addons=(*PROPS.addons, observability)))
    created = {g["name"]: g for g in out["resource"]["aws_cloudwatch_log_group"].values()}
    for name in groups:
        assert created[name]["kms_key_id"] == LOGS_KEY
        assert created[name]["retention_in_days"] == 30
    depends_on = addon(out, "amazon-cloudwatch-observability")["depends_on"]
    for name in groups:
        assert ref(out, "aws_cloudwatch_log_group", lambda g, n=name: g["name"] == n) in depends_on
    # ... and, like every add-on that runs Deployments, after the node group.
    assert ref(out, "aws_eks_node_group", lambda n: True) in depends_on
    duplicate = Addon("amazon-cloudwatch-observability", "v4.1.0-eksbuild.1", log_group_names=(groups[0], groups[0]))
    with pytest.raises(ValidationError, match="log_group_names must be distinct"):
        synth(replace(PROPS, addons=(*PROPS.addons, duplicate)), with_nodes=False)


def test_cluster_validation_names_the_value():
    with pytest.raises(ValidationError, match="kubernetes_version must look like '1.33', got '1.33.1'"):
        synth(replace(PROPS, kubernetes_version="1.33.1"), with_nodes=False)
    with pytest.raises(ValidationError, match="log_types must be distinct values.*'kubelet'"):
        synth(replace(PROPS, log_types=("api", "kubelet")), with_nodes=False)
    with pytest.raises(ValidationError, match="principal_arn must be an IAM role ARN, got 'arn:aws:iam::111111111111:user/bob'"):
        synth(replace(PROPS, access=(ClusterAccess("bob", "arn:aws:iam::111111111111:user/bob"),)), with_nodes=False)
    with pytest.raises(ValidationError, match="access_policy must be one of .*, got 'AmazonEKSEverythingPolicy'"):
        synth(replace(PROPS, access=(ClusterAccess("x", ADMIN, "AmazonEKSEverythingPolicy"),)), with_nodes=False)
    with pytest.raises(ValidationError, match=r"access names must be distinct lowercase slugs, got \['a', 'a'\]"):
        synth(replace(PROPS, access=(ClusterAccess("a", ADMIN), ClusterAccess("a", VIEWER))), with_nodes=False)


# --- general node group -------------------------------------------------------------------


def test_nodes_attach_the_cluster_and_node_security_groups(out):
    template = only(out["resource"]["aws_launch_template"])
    assert template["vpc_security_group_ids"] == [
        "${aws_eks_cluster.%s.vpc_config[0].cluster_security_group_id}"
        % ref(out, "aws_eks_cluster", lambda c: True).partition(".")[2],
        "${%s.id}" % ref(out, "aws_security_group", lambda s: True),
    ]
    node_sg = only(out["resource"]["aws_security_group"])
    assert "ingress" not in node_sg  # an identity for the data tier to admit, no rules of its own


def test_node_launch_template_requires_imdsv2_and_encrypts_the_root_volume(out):
    template = only(out["resource"]["aws_launch_template"])
    assert template["metadata_options"]["http_tokens"] == "required"
    assert template["metadata_options"]["http_put_response_hop_limit"] == 1
    (device,) = template["block_device_mappings"]
    assert device["ebs"]["encrypted"] == "true"
    assert device["ebs"]["volume_type"] == "gp3"
    assert "user_data" not in template and "image_id" not in template
    kinds = {spec["resource_type"] for spec in template["tag_specifications"]}
    assert {"instance", "volume"} <= kinds


def test_desired_size_is_left_to_the_autoscaler(out):
    node_group = only(out["resource"]["aws_eks_node_group"])
    assert node_group["lifecycle"]["ignore_changes"] == ["scaling_config[0].desired_size"]
    assert node_group["ami_type"] == "AL2023_x86_64_STANDARD"
    assert node_group["update_config"] == {"max_unavailable_percentage": 33}


def test_autoscaler_discovery_tags(out):
    tags = {t["tag"]["key"]: t["tag"] for t in out["resource"]["aws_autoscaling_group_tag"].values()}
    assert tags["k8s.io/cluster-autoscaler/enabled"]["value"] == "true"
    owned = [k for k in tags if k.startswith("k8s.io/cluster-autoscaler/${aws_eks_cluster.")]
    assert len(owned) == 1 and tags[owned[0]]["value"] == "owned"
    assert tags["k8s.io/cluster-autoscaler/node-template/label/workload-type"]["value"] == "general"
    assert all(t["propagate_at_launch"] is False for t in tags.values())


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"min_size": 4, "max_size": 3, "desired_size": 3}, "min_size 4 must be <= max_size 3"),
        ({"min_size": 2, "desired_size": 1}, "desired_size 1 must be >= min_size 2"),
        ({"desired_size": 6}, "desired_size 6 must be <= max_size 5"),
        ({"ami_type": "AL2_x86_64"}, "ami_type must be one of .* got 'AL2_x86_64'"),
        ({"capacity_type": "RESERVED"}, "capacity_type must be ON_DEMAND or SPOT, got 'RESERVED'"),
        ({"imds_hop_limit": 0}, "imds_hop_limit must be 1..64, got 0"),
        ({"instance_types": ()}, "instance_types must list at least one type"),
    ],
)
def test_node_group_validation_names_the_value(overrides, message):
    app = Testing.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(ValidationError, match=message):
        ManagedNodeGroup(stack, "general", node_props(**overrides))

"""``ManagedNodeGroup``: an EKS managed node group on a hardened launch template.

The launch template carries what the node group API cannot express: IMDSv2
with a deliberate hop limit, an encrypted gp3 root volume, the node security
groups, and tags for the instances and volumes (the provider's ``default_tags``
do not reach them). No AMI id and no user data: EKS picks the AMI of
``ami_type`` and writes its own bootstrap (``nodeadm`` on AL2023, TOML
settings on Bottlerocket), so ``/etc/eks/bootstrap.sh`` never appears.

After creation the cluster autoscaler owns ``desired_size`` (Terraform ignores
it), and the group's Auto Scaling group carries the autoscaler's discovery and
``node-template`` tags, so that it can scale the group from zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable, TerraformResourceLifecycle, Token
from constructs import Construct

from constructs_lib.compute.vcpu_quota_check import VcpuQuotaCheck, VcpuQuotaCheckProps
from constructs_lib.errors import ValidationError
from constructs_lib.limits import bounded, check_limits
from constructs_lib.naming import K8S_LABEL_KEY, K8S_LABEL_VALUE, ResourceKind, check, slug
from constructs_lib.providers import aws
from constructs_lib.security.policy import Principal, Statement, policy_document
from constructs_lib.storage import gp3

# Amazon Linux 2 reached end of life (EKS stopped publishing AL2 AMIs with Kubernetes 1.33),
# and its AMIs rely on /etc/eks/bootstrap.sh: only AL2023 and Bottlerocket types are accepted.
SUPPORTED_AMI_TYPES = frozenset(
    {
        "AL2023_x86_64_STANDARD",
        "AL2023_ARM_64_STANDARD",
        "AL2023_x86_64_NVIDIA",
        "AL2023_x86_64_NEURON",
        "BOTTLEROCKET_x86_64",
        "BOTTLEROCKET_ARM_64",
        "BOTTLEROCKET_x86_64_NVIDIA",
        "BOTTLEROCKET_ARM_64_NVIDIA",
    }
)
CAPACITY_TYPES = ("ON_DEMAND", "SPOT")
# Kubernetes spelling -> EKS API spelling.
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}

# The node role's managed policies (what the kubelet, the VPC CNI and image pulls need).
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")

_AUTOSCALER = "k8s.io/cluster-autoscaler"


@dataclass(frozen=True)
class Taint:
    """A Kubernetes taint put on every node of the group."""

    key: str
    value: str
    effect: str = "NoSchedule"
    """``NoSchedule``, ``PreferNoSchedule`` or ``NoExecute`` (Kubernetes spelling)."""


@dataclass(frozen=True)
class RootVolume:
    """The gp3 root volume of each node; always encrypted. Checked when created, against
    gp3's limits (:mod:`constructs_lib.storage.gp3`).

    Also the type of the configuration's ``gpu_nodes.root_volume``: these defaults and limits
    are the only ones."""

    size_gib: int = bounded(50, ge=20, le=16384)
    """Size in GiB, 20..16384: the EKS AMIs' root (Bottlerocket: data) snapshots are 20 GiB, and
    a volume cannot be smaller than its snapshot. Default: 50."""
    iops: int = bounded(gp3.BASELINE_IOPS, ge=gp3.BASELINE_IOPS, le=gp3.MAX_IOPS)
    """Provisioned IOPS, 3000..16000, at most 500 per GiB. Default: 3000 (the gp3 baseline, included in the price)."""
    throughput_mibps: int = bounded(
        gp3.BASELINE_THROUGHPUT_MIBPS, ge=gp3.BASELINE_THROUGHPUT_MIBPS, le=gp3.MAX_THROUGHPUT_MIBPS
    )
    """Throughput in MiB/s, 125..1000, at most 0.25 per provisioned IOPS. Default: 125 (the gp3 baseline)."""
    kms_key_arn: str | None = None
    """Customer-managed key for the volume. Default: the account's ``aws/ebs`` key.
    A customer key must grant the EC2 Auto Scaling service-linked role
    (``AWSServiceRoleForAutoScaling``) use of the key, or instances fail to launch."""

    def __post_init__(self) -> None:
        check_limits(self)
        if self.iops > gp3.BASELINE_IOPS and self.iops > gp3.MAX_IOPS_PER_GIB * self.size_gib:
            raise ValidationError(
                f"RootVolume: iops {self.iops} exceeds {gp3.MAX_IOPS_PER_GIB} IOPS per GiB of a {self.size_gib} GiB gp3 volume"
            )
        if self.throughput_mibps > gp3.BASELINE_THROUGHPUT_MIBPS and self.throughput_mibps > gp3.MAX_MIBPS_PER_IOPS * self.iops:
            raise ValidationError(
                f"RootVolume: throughput_mibps {self.throughput_mibps} exceeds {gp3.MAX_MIBPS_PER_IOPS} MiB/s per "
                f"provisioned IOPS ({self.iops} IOPS)"
            )


@dataclass(frozen=True, kw_only=True)
class NodeGroupOptions:
    """What a node group is; :class:`ManagedNodeGroupProps` adds how it joins a cluster.
    ``EksCluster.add_node_group`` takes these and supplies the rest."""

    node_group_name: str
    """Node group name (checked against EKS's 63-character limit); also names the launch template."""
    node_role_name: str
    """Name of the node IAM role this construct creates."""
    subnet_ids: Sequence[str]
    """Subnets of the nodes: the private subnets, one per AZ."""
    instance_types: tuple[str, ...]
    """Instance types; the cluster autoscaler plans with the first, so list types of
    the same vCPU and memory, or the smallest first."""
    min_size: int
    """Fewest nodes (0 allows scale-to-zero)."""
    max_size: int
    """Most nodes."""
    desired_size: int
    """Nodes at creation; ignored afterwards (the cluster autoscaler owns it)."""
    ami_type: str = "AL2023_x86_64_STANDARD"
    """EKS AMI family; AL2 types are refused. Default: ``AL2023_x86_64_STANDARD``."""
    capacity_type: str = "ON_DEMAND"
    """``ON_DEMAND`` or ``SPOT``. Default: ``ON_DEMAND``."""
    root_volume: RootVolume = RootVolume()
    """Root volume. Default: 50 GiB gp3, 3000 IOPS, 125 MiB/s, encrypted."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels of every node. Default: none."""
    taints: tuple[Taint, ...] = ()
    """Kubernetes taints of every node. Default: none."""
    imds_hop_limit: int = 1
    """IMDSv2 PUT response hop limit. Default 1: containers (one network hop
    further) cannot reach the node's metadata and so cannot take the node role's
    credentials; pods get AWS access through IRSA instead."""
    max_unavailable_percentage: int = 33
    """Nodes replaced at once during a version or launch-template update. Default: 33%."""
    autoscaler_resources: Mapping[str, str] = field(default_factory=dict)
    """Extended resources a node offers (e.g. ``{"nvidia.com/gpu": "1"}``), told to the
    cluster autoscaler through ``node-template/resources`` tags. Default: none."""
    instance_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the instances and their volumes (``Name`` is added). Pass the
    environment's default tags: the provider's ``default_tags`` do not reach them."""
    vcpu_quota_check: bool = True
    """Warn at plan time when the account's EC2 vCPU quota for these instance types and
    ``capacity_type`` is below ``max_size`` x their vCPUs (``VcpuQuotaCheck``; every type
    must then be in ``instance_types.INSTANCE_TYPES``). Default: on."""


@dataclass(frozen=True, kw_only=True)
class ManagedNodeGroupProps(NodeGroupOptions):
    """A node group and its cluster. Prefer ``EksCluster.add_node_group(scope, id, options)``,
    which fills these three from the cluster."""

    cluster_name: str
    """Name of the EKS cluster the nodes join."""
    security_group_ids: Sequence[str]
    """Security groups of every node. With a launch template that lists security groups,
    EKS does not add the cluster security group by itself: include it here."""
    depends_on: tuple[ITerraformDependable, ...] = ()
    """Resources the node group waits for (the cluster's ``vpc-cni`` add-on: without
    it nodes never become Ready). Default: none."""


class ManagedNodeGroup(Construct):
    """An EKS managed node group with its node role and launch template.

    Outputs: ``node_group_name``, ``node_group_arn``, ``node_role_arn``,
    ``node_role_name``, ``launch_template_id``, ``autoscaling_group_name``,
    ``vcpu_quota_check`` (or None).
    """

    def __init__(self, scope: Construct, id_: str, props: ManagedNodeGroupProps):
        super().__init__(scope, id_)
        self.props = props
        self._validate(id_, props)

        partition = aws.data_aws_partition.DataAwsPartition(self, "partition").partition
        self.node_role = self._node_role(props, partition)
        self.launch_template = self._launch_template(props)

        self.node_group = aws.eks_node_group.EksNodeGroup(
            self,
            "node-group",
            cluster_name=props.cluster_name,
            node_group_name=props.node_group_name,
            node_role_arn=self.node_role.arn,
            subnet_ids=list(props.subnet_ids),
            ami_type=props.ami_type,
            capacity_type=props.capacity_type,
            instance_types=list(props.instance_types),
            launch_template=aws.eks_node_group.EksNodeGroupLaunchTemplate(
                id=self.launch_template.id, version=Token.as_string(self.launch_template.latest_version)
            ),
            scaling_config=aws.eks_node_group.EksNodeGroupScalingConfig(
                min_size=props.min_size, max_size=props.max_size, desired_size=props.desired_size
            ),
            update_config=aws.eks_node_group.EksNodeGroupUpdateConfig(
                max_unavailable_percentage=props.max_unavailable_percentage
            ),
            labels=dict(props.labels) or None,
            taint=[
                aws.eks_node_group.EksNodeGroupTaint(key=t.key, value=t.value, effect=TAINT_EFFECTS[t.effect])
                for t in props.taints
            ]
            or None,
            # The cluster autoscaler changes desired_size; Terraform must not set it back.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["scaling_config[0].desired_size"]),
            # The policies stay attached until the nodes are gone, so that they can drain
            # and deregister on destroy; and nodes join only once the CNI is installed.
            depends_on=[*self._policy_attachments, *props.depends_on],
        )
        self.autoscaling_group_name: str = self.node_group.resources.get(0).autoscaling_groups.get(0).name
        self._autoscaler_tags(props)
        self.vcpu_quota_check = (
            VcpuQuotaCheck(
                self,
                "vcpu-quota",
                VcpuQuotaCheckProps(
                    node_group_name=props.node_group_name,
                    instance_types=props.instance_types,
                    capacity_type=props.capacity_type,
                    max_size=props.max_size,
                ),
            )
            if props.vcpu_quota_check
            else None
        )

        self.node_group_name: str = self.node_group.node_group_name
        self.node_group_arn: str = self.node_group.arn
        self.node_role_arn: str = self.node_role.arn
        self.node_role_name: str = self.node_role.name
        self.launch_template_id: str = self.launch_template.id

    # --- pieces ---------------------------------------------------------------------------

    def _node_role(self, props: ManagedNodeGroupProps, partition: str) -> aws.iam_role.IamRole:
        trust = policy_document(
            self,
            "node-trust",
            [Statement(sid="Ec2", actions=("sts:AssumeRole",), principals=(Principal("Service", ("ec2.amazonaws.com",)),))],
        )
        role = aws.iam_role.IamRole(self, "node-role", name=props.node_role_name, assume_role_policy=trust.json)
        self._policy_attachments = [
            aws.iam_role_policy_attachment.IamRolePolicyAttachment(
                self, f"node-{policy}", role=role.name, policy_arn=f"arn:{partition}:iam::aws:policy/{policy}"
            )
            for policy in NODE_POLICIES
        ]
        return role

    def _launch_template(self, props: ManagedNodeGroupProps) -> aws.launch_template.LaunchTemplate:
        lt = aws.launch_template
        volume = props.root_volume
        tags = {**props.instance_tags, "Name": props.node_group_name}
        return lt.LaunchTemplate(
            self,
            "launch-template",
            name=props.node_group_name,
            description=f"Nodes of EKS node group {props.node_group_name}",
            update_default_version=True,
            vpc_security_group_ids=list(props.security_group_ids),
            metadata_options=lt.LaunchTemplateMetadataOptions(
                http_endpoint="enabled",
                # IMDSv2 only: a session token defeats SSRF-style credential theft.
                http_tokens="required",
                http_put_response_hop_limit=props.imds_hop_limit,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                lt.LaunchTemplateBlockDeviceMappings(
                    device_name=_root_device(props.ami_type),
                    ebs=lt.LaunchTemplateBlockDeviceMappingsEbs(
                        volume_type="gp3",
                        volume_size=volume.size_gib,
                        iops=volume.iops,
                        throughput=volume.throughput_mibps,
                        encrypted="true",
                        kms_key_id=volume.kms_key_arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                lt.LaunchTemplateTagSpecifications(resource_type=kind, tags=tags)
                for kind in ("instance", "volume", "network-interface")
            ],
        )

    def _autoscaler_tags(self, props: ManagedNodeGroupProps) -> None:
        # EKS tags the Auto Scaling group for auto-discovery at creation; the
        # node-template tags tell the autoscaler what a node of an empty group
        # (min_size 0) would look like, which it cannot learn from a running node.
        # https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md
        tags: list[tuple[str, str, str]] = [
            ("discovery-enabled", f"{_AUTOSCALER}/enabled", "true"),
            ("discovery-cluster", f"{_AUTOSCALER}/{props.cluster_name}", "owned"),
        ]
        tags += [(f"label-{slug(k)}", f"{_AUTOSCALER}/node-template/label/{k}", v) for k, v in sorted(props.labels.items())]
        tags += [
            (f"taint-{slug(t.key)}", f"{_AUTOSCALER}/node-template/taint/{t.key}", f"{t.value}:{t.effect}")
            for t in props.taints
        ]
        tags += [
            (f"resource-{slug(k)}", f"{_AUTOSCALER}/node-template/resources/{k}", v)
            for k, v in sorted(props.autoscaler_resources.items())
        ]
        self.autoscaler_tags = {
            tag_id: aws.autoscaling_group_tag.AutoscalingGroupTagA(
                self,
                f"asg-tag-{tag_id}",
                autoscaling_group_name=self.autoscaling_group_name,
                # Only the autoscaler reads these; instances get their tags from the launch template.
                tag=aws.autoscaling_group_tag.AutoscalingGroupTagTag(key=key, value=value, propagate_at_launch=False),
            )
            for tag_id, key, value in tags
        }

    # --- validation -----------------------------------------------------------------------

    @staticmethod
    def _validate(id_: str, props: ManagedNodeGroupProps) -> None:
        where = f"ManagedNodeGroup {id_}"
        check(props.node_group_name, ResourceKind.EKS_NODE_GROUP)
        check(props.node_group_name, ResourceKind.LAUNCH_TEMPLATE)
        check(props.node_role_name, ResourceKind.IAM_ROLE)
        if props.ami_type not in SUPPORTED_AMI_TYPES:
            raise ValidationError(
                f"{where}: ami_type must be one of {sorted(SUPPORTED_AMI_TYPES)} (AL2 is end of life), got {props.ami_type!r}"
            )
        if props.capacity_type not in CAPACITY_TYPES:
            raise ValidationError(f"{where}: capacity_type must be ON_DEMAND or SPOT, got {props.capacity_type!r}")
        if not props.instance_types:
            raise ValidationError(f"{where}: instance_types must list at least one type, got ()")
        if len(set(props.instance_types)) != len(props.instance_types):
            raise ValidationError(f"{where}: instance_types must not repeat a type, got {props.instance_types!r}")
        if not props.subnet_ids:
            raise ValidationError(f"{where}: subnet_ids must list at least one subnet, got {list(props.subnet_ids)!r}")
        if not props.security_group_ids:
            raise ValidationError(f"{where}: security_group_ids must list the cluster security group, got []")
        validate_sizes(where, props.min_size, props.desired_size, props.max_size)
        if not 1 <= props.imds_hop_limit <= 64:
            raise ValidationError(f"{where}: imds_hop_limit must be 1..64, got {props.imds_hop_limit}")
        if not 1 <= props.max_unavailable_percentage <= 100:
            raise ValidationError(
                f"{where}: max_unavailable_percentage must be 1..100, got {props.max_unavailable_percentage}"
            )
        for key, value in props.labels.items():
            if not K8S_LABEL_KEY.fullmatch(key) or not K8S_LABEL_VALUE.fullmatch(value):
                raise ValidationError(f"{where}: label {key}={value!r} is not a valid Kubernetes label")
        for taint in props.taints:
            if taint.effect not in TAINT_EFFECTS:
                raise ValidationError(
                    f"{where}: taint {taint.key!r} effect must be one of {sorted(TAINT_EFFECTS)}, got {taint.effect!r}"
                )
            if not K8S_LABEL_KEY.fullmatch(taint.key):
                raise ValidationError(f"{where}: taint key must be a Kubernetes qualified name, got {taint.key!r}")


def validate_sizes(where: str, min_size: int, desired_size: int, max_size: int) -> None:
    """Raise unless 0 <= min_size <= desired_size <= max_size and max_size >= 1."""
    if min_size < 0:
        raise ValidationError(f"{where}: min_size must be >= 0, got {min_size}")
    if max_size < 1:
        raise ValidationError(f"{where}: max_size must be >= 1, got {max_size}")
    if min_size > max_size:
        raise ValidationError(f"{where}: min_size {min_size} must be <= max_size {max_size}")
    if desired_size < min_size:
        raise ValidationError(f"{where}: desired_size {desired_size} must be >= min_size {min_size}")
    if desired_size > max_size:
        raise ValidationError(f"{where}: desired_size {desired_size} must be <= max_size {max_size}")


def _root_device(ami_type: str) -> str:
    # Bottlerocket boots from a small OS volume (/dev/xvda) and keeps images and
    # containers on its data volume (/dev/xvdb): that is the one to size.
    return "/dev/xvdb" if ami_type.startswith("BOTTLEROCKET") else "/dev/xvda"

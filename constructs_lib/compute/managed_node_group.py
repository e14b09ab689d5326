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

from cdktf import TerraformResourceLifecycle, Token
from constructs import Construct

from constructs_lib.compute.managed_node_group_props import (
    CAPACITY_TYPES,
    SUPPORTED_AMI_TYPES,
    TAINT_EFFECTS,
    ManagedNodeGroupProps,
)
from constructs_lib.compute.vcpu_quota_check import VcpuQuotaCheck, VcpuQuotaCheckProps
from constructs_lib.errors import ValidationError
from constructs_lib.naming import K8S_LABEL_KEY, K8S_LABEL_VALUE, ResourceKind, check, slug
from constructs_lib.providers import aws
from constructs_lib.security.policy import Principal, Statement, policy_document

# The node role's managed policies (what the kubelet, the VPC CNI and image pulls need).
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")

_AUTOSCALER = "k8s.io/cluster-autoscaler"


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

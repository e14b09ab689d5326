"""``EksCluster``: an EKS control plane with secure defaults, its add-ons and its IRSA provider.

* API endpoint private; public only when ``endpoint_public_access`` is set, and
  then only for the listed CIDRs (never ``0.0.0.0/0``).
* Kubernetes secrets envelope-encrypted with a customer KMS key.
* Control-plane logs (all types by default) in a KMS-encrypted, retained log
  group that exists before the cluster, so EKS cannot create an unencrypted,
  never-expiring one first.
* Authentication through EKS access entries (mode ``API``; no ``aws-auth``
  ConfigMap); the creator gets no implicit admin, administrators are listed.
* Managed add-ons at pinned versions: those nodes need to become Ready
  (``vpc-cni``, ``kube-proxy``) before any node group, the others
  (``coredns``, ``aws-ebs-csi-driver``) after one (see :meth:`add_node_group`).
* The IAM OIDC provider for IRSA, and a node security group that every node
  group attaches and that the data tier admits.
"""

from __future__ import annotations

import re
from dataclasses import fields

from cdktf import TerraformStack
from constructs import Construct

from constructs_lib import naming, tagging
from constructs_lib.compute.eks_addons import Addon, validate_addons
from constructs_lib.compute.eks_addons import AddonServiceAccount as AddonServiceAccount  # re-export: props type
from constructs_lib.compute.eks_cluster_props import ACCESS_POLICIES, ALL_LOG_TYPES, SUPPORT_TYPES, EksClusterProps
from constructs_lib.compute.irsa_role import IrsaRole, IrsaRoleProps
from constructs_lib.compute.managed_node_group import ManagedNodeGroup
from constructs_lib.compute.managed_node_group_props import ManagedNodeGroupProps, NodeGroupOptions
from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupProps
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.policy import Principal, Statement, check_role_arn, policy_document


class EksCluster(Construct):
    """An EKS cluster with encrypted secrets, logged control plane, access entries and add-ons.

    Outputs: ``cluster_name``, ``cluster_arn``, ``cluster_endpoint``,
    ``cluster_certificate_authority_data``, ``cluster_security_group_id`` (created by
    EKS, shared by the control plane and every node), ``node_security_group_id``,
    ``oidc_provider_arn``, ``oidc_provider_url``, ``cluster_role_arn``, ``log_group_name``,
    ``node_security_group_ids`` (what every node attaches), ``node_groups``.
    Node groups: :meth:`add_node_group`.
    """

    def __init__(self, scope: Construct, id_: str, props: EksClusterProps):
        super().__init__(scope, id_)
        tagging.set_component(self, "compute")
        self.props = props
        self._validate(id_, props)
        self._partition = partition = aws.data_aws_partition.DataAwsPartition(self, "partition").partition

        self.role, role_dependencies = self._cluster_role(props, partition)
        self.log_group = self._control_plane_log_group(props)
        self.cluster = self._create_cluster(props, depends_on=[self.log_group, *role_dependencies])
        self.cluster_name: str = self.cluster.name
        self.cluster_arn: str = self.cluster.arn
        self.cluster_endpoint: str = self.cluster.endpoint
        self.cluster_certificate_authority_data: str = self.cluster.certificate_authority.get(0).data
        self.cluster_security_group_id: str = self.cluster.vpc_config.cluster_security_group_id
        self.cluster_role_arn: str = self.role.arn
        self.log_group_name: str = self.log_group.name

        self.node_security_group = self._node_security_group(props)
        self.node_security_group_id: str = self.node_security_group.id
        # With a launch template that lists security groups, EKS does not add its cluster
        # security group to the nodes: every node group attaches both.
        # https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html
        self.node_security_group_ids: tuple[str, str] = (self.cluster_security_group_id, self.node_security_group_id)

        self.oidc_provider = aws.iam_openid_connect_provider.IamOpenidConnectProvider(
            self,
            "oidc-provider",
            url=self.cluster.identity.get(0).oidc.get(0).issuer,
            client_id_list=["sts.amazonaws.com"],
            # No thumbprint_list: IAM validates EKS's OIDC issuers against its own trusted
            # root CAs and ignores thumbprints for them (hashicorp/aws >= 5.81 makes the
            # argument optional; IAM computes one). No tls provider is needed.
        )
        self.oidc_provider_arn: str = self.oidc_provider.arn
        self.oidc_provider_url: str = self.oidc_provider.url

        self.access_entries = self._access_entries(props)
        self.addons: dict[str, aws.eks_addon.EksAddon] = {}
        self._after_compute: list[aws.eks_addon.EksAddon] = []
        for addon in props.addons:
            self._add_addon(addon)
        self._before_compute: tuple[aws.eks_addon.EksAddon, ...] = tuple(
            self.addons[a.name] for a in props.addons if a.before_compute
        )
        self.node_groups: list[ManagedNodeGroup] = []

    # --- behaviour ------------------------------------------------------------------------

    def add_node_group(self, scope: Construct, id_: str, options: NodeGroupOptions) -> ManagedNodeGroup:
        """A managed node group ``scope/id_`` that joins this cluster, however far ``scope`` is.

        The group gets the cluster's name and both ``node_security_group_ids``. In the
        cluster's own stack it also waits for the add-ons nodes need to become Ready
        (``vpc-cni``, ``kube-proxy``), and the add-ons that run Deployments (``coredns``,
        ``aws-ebs-csi-driver``), which never become ACTIVE without nodes, wait for it.
        In a later stack the stack order does both: the group's stack reads the cluster's
        name, so cdktf deploys the cluster's stack, add-ons included, before it and
        destroys it after. A ``depends_on`` across stacks would render as a reference to
        an output, which Terraform refuses; the reverse wait would be a cycle of stacks.
        """
        same_stack = TerraformStack.of(scope) is TerraformStack.of(self)
        group = ManagedNodeGroup(
            scope,
            id_,
            ManagedNodeGroupProps(
                **{f.name: getattr(options, f.name) for f in fields(NodeGroupOptions)},
                cluster_name=self.cluster_name,
                security_group_ids=self.node_security_group_ids,
                depends_on=self._before_compute if same_stack else (),
            ),
        )
        self.node_groups.append(group)
        if same_stack:
            self._after_compute_wait_for(group)
        return group

    def _after_compute_wait_for(self, group: ManagedNodeGroup) -> None:
        for addon in self._after_compute:
            # A resource's fqn renders as "${type.id}", which depends_on refuses;
            # the constructor argument strips the braces, a later append must do it itself.
            reference = f"{group.node_group.terraform_resource_type}.{TerraformStack.of(self).get_logical_id(group.node_group)}"
            addon.depends_on = [*(addon.depends_on or []), reference]

    # --- pieces ---------------------------------------------------------------------------

    def _control_plane_log_group(self, props: EksClusterProps) -> aws.cloudwatch_log_group.CloudwatchLogGroup:
        return EncryptedLogGroup(
            self,
            "log-group",
            EncryptedLogGroupProps(
                # The name EKS writes to: created first, EKS uses this group as it is.
                name=f"/aws/eks/{props.cluster_name}/cluster",
                retention_days=props.log_retention_days,
                kms_key_arn=props.log_kms_key_arn,
            ),
        ).resource

    def _create_cluster(self, props: EksClusterProps, depends_on: list) -> aws.eks_cluster.EksCluster:
        vpc = aws.eks_cluster.EksClusterVpcConfig(
            subnet_ids=list(props.subnet_ids),
            endpoint_private_access=True,
            endpoint_public_access=props.endpoint_public_access,
            public_access_cidrs=list(props.public_access_cidrs) if props.endpoint_public_access else None,
        )
        return aws.eks_cluster.EksCluster(
            self,
            "cluster",
            name=props.cluster_name,
            version=props.kubernetes_version,
            role_arn=self.role.arn,
            vpc_config=vpc,
            access_config=aws.eks_cluster.EksClusterAccessConfig(
                authentication_mode="API",
                # Whoever runs the first apply gets no hidden, unlisted admin rights.
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            encryption_config=aws.eks_cluster.EksClusterEncryptionConfig(
                resources=["secrets"],
                provider=aws.eks_cluster.EksClusterEncryptionConfigProvider(key_arn=props.secrets_kms_key_arn),
            ),
            enabled_cluster_log_types=list(props.log_types),
            # vpc-cni, kube-proxy and coredns come as managed add-ons at pinned versions
            # instead of EKS's unmanaged defaults.
            bootstrap_self_managed_addons=False,
            upgrade_policy=aws.eks_cluster.EksClusterUpgradePolicy(support_type=props.support_type),
            depends_on=depends_on,
        )

    def _cluster_role(self, props: EksClusterProps, partition: str):
        trust = policy_document(
            self,
            "cluster-trust",
            [Statement(sid="Eks", actions=("sts:AssumeRole", "sts:TagSession"), principals=(Principal("Service", ("eks.amazonaws.com",)),))],
        )
        role = aws.iam_role.IamRole(self, "cluster-role", name=props.role_name, assume_role_policy=trust.json)
        attachment = aws.iam_role_policy_attachment.IamRolePolicyAttachment(
            self, "cluster-policy", role=role.name, policy_arn=f"arn:{partition}:iam::aws:policy/AmazonEKSClusterPolicy"
        )
        # The control plane calls KMS as this role to wrap and unwrap secret data keys.
        encryption = policy_document(
            self,
            "cluster-encryption",
            [
                Statement(
                    sid="SecretsEnvelopeEncryption",
                    actions=("kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"),
                    resources=(props.secrets_kms_key_arn,),
                )
            ],
        )
        encryption_policy = aws.iam_role_policy.IamRolePolicy(
            self, "cluster-encryption-policy", name="secrets-encryption", role=role.name, policy=encryption.json
        )
        return role, [attachment, encryption_policy]

    def _node_security_group(self, props: EksClusterProps) -> aws.security_group.SecurityGroup:
        # An identity for the application tier, with no rules of its own: node-to-node,
        # node-to-control-plane and egress traffic is allowed by the EKS cluster security
        # group that every node also carries. Data stores admit this group, not the
        # cluster group (which the control plane's interfaces carry too).
        return aws.security_group.SecurityGroup(
            self,
            "node-sg",
            name=props.node_security_group_name,
            description=f"EKS nodes of {props.cluster_name} (application tier)",
            vpc_id=props.vpc_id,
            tags={"Name": props.node_security_group_name},
        )

    def _access_entries(self, props: EksClusterProps) -> dict[str, aws.eks_access_entry.EksAccessEntry]:
        entries = {}
        for grant in props.access:
            entry = aws.eks_access_entry.EksAccessEntry(
                self, f"access-{grant.name}", cluster_name=self.cluster.name, principal_arn=grant.principal_arn, type="STANDARD"
            )
            aws.eks_access_policy_association.EksAccessPolicyAssociation(
                self,
                f"access-{grant.name}-policy",
                cluster_name=self.cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=f"arn:{self._partition}:eks::aws:cluster-access-policy/{grant.access_policy}",
                access_scope=aws.eks_access_policy_association.EksAccessPolicyAssociationAccessScope(type="cluster"),
            )
            entries[grant.name] = entry
        # Managed node groups need no entry here: EKS creates their EC2_LINUX entries itself.
        return entries

    def _add_addon(self, addon: Addon) -> None:
        role_arn = None
        if addon.service_account is not None:
            sa = addon.service_account
            role = IrsaRole(
                self,
                f"{addon.name}-irsa",
                IrsaRoleProps(
                    role_name=sa.role_name,
                    oidc_provider_arn=self.oidc_provider_arn,
                    oidc_provider_url=self.oidc_provider_url,
                    namespace=sa.namespace,
                    service_account=sa.service_account,
                    managed_policy_arns=tuple(f"arn:{self._partition}:iam::aws:policy/{p}" for p in sa.managed_policies),
                ),
            )
            role_arn = role.role_arn
        log_groups = [
            EncryptedLogGroup(
                self,
                f"{addon.name}-log-{naming.slug(name)}",
                EncryptedLogGroupProps(
                    name=name, retention_days=self.props.log_retention_days, kms_key_arn=self.props.log_kms_key_arn
                ),
            ).resource
            for name in addon.log_group_names
        ]
        resource = aws.eks_addon.EksAddon(
            self,
            f"addon-{addon.name}",
            depends_on=log_groups or None,
            cluster_name=self.cluster.name,
            addon_name=addon.name,
            addon_version=addon.version,
            service_account_role_arn=role_arn,
            # The configuration lives here: drift made in the cluster is overwritten.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
        )
        self.addons[addon.name] = resource
        if not addon.before_compute:
            self._after_compute.append(resource)

    # --- validation -----------------------------------------------------------------------

    @staticmethod
    def _validate(id_: str, props: EksClusterProps) -> None:
        where = f"EksCluster {id_}"
        check(props.cluster_name, ResourceKind.EKS_CLUSTER)
        check(props.role_name, ResourceKind.IAM_ROLE)
        if not re.fullmatch(r"1\.\d{2}", props.kubernetes_version):
            raise ValidationError(f"{where}: kubernetes_version must look like '1.33', got {props.kubernetes_version!r}")
        if props.support_type not in SUPPORT_TYPES:
            raise ValidationError(f"{where}: support_type must be STANDARD or EXTENDED, got {props.support_type!r}")
        if not props.subnet_ids:
            raise ValidationError(f"{where}: subnet_ids must list subnets in at least two AZs, got {list(props.subnet_ids)!r}")
        for arg in ("secrets_kms_key_arn", "log_kms_key_arn"):
            if not getattr(props, arg):
                raise ValidationError(f"{where}: {arg} must be a KMS key ARN, got {getattr(props, arg)!r}")
        if props.endpoint_public_access and not props.public_access_cidrs:
            raise ValidationError(
                f"{where}: public_access_cidrs must list the allowed sources when endpoint_public_access is true, got ()"
            )
        if not props.endpoint_public_access and props.public_access_cidrs:
            raise ValidationError(
                f"{where}: public_access_cidrs {props.public_access_cidrs!r} requires endpoint_public_access=True"
            )
        for cidr in props.public_access_cidrs:
            if cidr.endswith("/0"):
                raise ValidationError(f"{where}: public_access_cidrs must not open the API to the internet, got {cidr!r}")
        unknown = [t for t in props.log_types if t not in ALL_LOG_TYPES]
        if unknown or not props.log_types or len(set(props.log_types)) != len(props.log_types):
            raise ValidationError(
                f"{where}: log_types must be distinct values of {list(ALL_LOG_TYPES)}, got {list(props.log_types)!r}"
            )
        access_names = [grant.name for grant in props.access]
        for grant in props.access:
            if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", grant.name) or access_names.count(grant.name) > 1:
                raise ValidationError(f"{where}: access names must be distinct lowercase slugs, got {access_names!r}")
            if grant.access_policy not in ACCESS_POLICIES:
                raise ValidationError(
                    f"{where}: access {grant.name!r}: access_policy must be one of {ACCESS_POLICIES!r}, got {grant.access_policy!r}"
                )
            check_role_arn(f"{where}: access {grant.name!r}", "principal_arn", grant.principal_arn)
        validate_addons(where, props.addons, taken_log_groups=(f"/aws/eks/{props.cluster_name}/cluster",))

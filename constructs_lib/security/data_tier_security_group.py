"""``DataTierSecurityGroup``: a security group that admits only other security groups.

The data tier (PostgreSQL, later Redis or OpenSearch) is reached by the
application tier alone. Sources are security group ids, never CIDR blocks: an
address range admits whatever lands in it (a NAT, a peered VPC, ``0.0.0.0/0``
by mistake), a security group only the instances that carry it.

Lives in the stack of the resource it protects, not in the security stack: its
sources (the EKS node security group) come from the compute stack, which is
downstream of security, and cdktf refuses cyclic stack references.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from cdktf import Token
from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws

_SG_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")


@dataclass(frozen=True)
class DataTierSecurityGroupProps:
    name: str
    """Security group name (``Naming.name(..., kind=ResourceKind.SECURITY_GROUP)``)."""
    description: str
    """What the group protects (immutable in AWS: changing it replaces the group)."""
    vpc_id: str
    """VPC of the protected resource."""
    port: int
    """The one TCP port admitted, e.g. 5432 for PostgreSQL."""
    source_security_group_ids: tuple[str, ...]
    """Security groups admitted on ``port`` (the application tier). At least one; no CIDRs."""


class DataTierSecurityGroup(Construct):
    """A security group with one ingress rule per source group on one port and no egress.

    No egress rule: the data tier answers connections (security groups are
    stateful) and never opens its own; the AWS provider removes the default
    allow-all egress rule of a group it creates.

    Outputs: ``security_group_id``, ``security_group_arn``.
    """

    def __init__(self, scope: Construct, id_: str, props: DataTierSecurityGroupProps):
        super().__init__(scope, id_)
        self._validate(id_, props)
        self.security_group = aws.security_group.SecurityGroup(
            self,
            "group",
            name=props.name,
            description=props.description,
            vpc_id=props.vpc_id,
            # Rules are separate resources (below); inline rules and rule resources fight each other.
            revoke_rules_on_delete=True,
            tags={"Name": props.name},
        )
        self.ingress_rules = [
            aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
                self,
                f"ingress-{index}",
                security_group_id=self.security_group.id,
                referenced_security_group_id=source,
                ip_protocol="tcp",
                from_port=props.port,
                to_port=props.port,
                description=f"{props.description}: application tier on {props.port}",
            )
            for index, source in enumerate(props.source_security_group_ids)
        ]
        self.security_group_id: str = self.security_group.id
        self.security_group_arn: str = self.security_group.arn

    @staticmethod
    def _validate(id_: str, props: DataTierSecurityGroupProps) -> None:
        where = f"DataTierSecurityGroup {id_}"
        check(props.name, ResourceKind.SECURITY_GROUP)
        if not 1 <= props.port <= 65535:
            raise ValidationError(f"{where}: port must be 1..65535, got {props.port}")
        if not props.source_security_group_ids:
            raise ValidationError(f"{where}: source_security_group_ids must name at least one security group, got ()")
        if len(set(props.source_security_group_ids)) != len(props.source_security_group_ids):
            raise ValidationError(
                f"{where}: source_security_group_ids must be unique, got {props.source_security_group_ids!r}"
            )
        for source in props.source_security_group_ids:
            if Token.is_unresolved(source):
                continue  # a reference to another stack's group: resolved by Terraform
            if _looks_like_cidr(source):
                raise ValidationError(
                    f"{where}: source_security_group_ids admits security groups only, never CIDR blocks, got {source!r}"
                )
            if not _SG_ID.fullmatch(source):
                raise ValidationError(
                    f"{where}: source_security_group_ids entries must be 'sg-...' ids, got {source!r}"
                )


def _looks_like_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True

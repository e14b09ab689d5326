"""``VectorDatabase``: an Amazon OpenSearch Service domain for embeddings (k-NN search).

Private by construction: the domain lives in the VPC's private subnets behind a
security group that admits HTTPS only from the application tier. Encrypted at
rest (customer key) and between nodes, HTTPS-only with a TLS 1.2 policy,
fine-grained access control mapped to an IAM master role (no master password in
state), slow/application/audit logs in retained, encrypted log groups, and
CloudWatch alarms on cluster health that notify on ALARM and on recovery.
"""

from __future__ import annotations

import re

from cdktf import Token
from constructs import Construct

from constructs_lib import tagging
from constructs_lib.ai.vector_database_alarms import health_alarm_specs
from constructs_lib.ai.vector_database_props import (
    AVAILABILITY_ZONES,
    DEDICATED_MASTER_COUNTS,
    ENGINE_VERSION_PATTERN,
    TLS_POLICIES,
    VOLUME_SIZE_GB,
    VectorDatabaseProps,
)
from constructs_lib.errors import ValidationError
from constructs_lib.monitoring import metrics
from constructs_lib.monitoring.alarms import AlarmProps, MetricAlarm
from constructs_lib.monitoring.dashboard_widgets import Metric
from constructs_lib.monitoring.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupProps, check_retention
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.policy import Condition, Principal, Statement, policy_document
from constructs_lib.storage import gp3

# Log types OpenSearch Service can publish. Slow logs also need per-index thresholds
# (index.search.slowlog.threshold.*) before anything is written.
LOG_TYPES = ("INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "ES_APPLICATION_LOGS", "AUDIT_LOGS")


class VectorDatabase(Construct):
    """A private, encrypted OpenSearch domain with fine-grained access control and health alarms.

    Outputs: ``domain_name``, ``domain_arn``, ``domain_endpoint``, ``security_group_id``,
    ``master_role_arn``, ``log_group_names`` (log type -> name), ``alarm_names``.
    Metrics: :meth:`metric`.
    """

    def __init__(self, scope: Construct, id_: str, props: VectorDatabaseProps):
        super().__init__(scope, id_)
        tagging.set_component(self, "ai")
        self._validate(id_, props)
        self.props = props

        identity = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "identity")
        partition = aws.data_aws_partition.DataAwsPartition(self, "partition")
        region = aws.data_aws_region.DataAwsRegion(self, "region")
        self.account_id: str = identity.account_id
        # Built from parts rather than read from the domain: the log resource policy and the
        # access policy must exist before the domain, so they cannot reference it.
        domain_arn = f"arn:{partition.partition}:es:{region.name}:{identity.account_id}:domain/{props.domain_name}"
        account_root = f"arn:{partition.partition}:iam::{identity.account_id}:root"

        self.security_group = self._security_group(props)
        self.master_role_arn: str = props.master_role_arn or self._master_role(props, account_root, domain_arn)
        self.log_groups = self._create_log_groups(props)
        log_policy = self._log_resource_policy(props, identity.account_id, domain_arn)
        self.domain = self._create_domain(props, self._access_policy(account_root, domain_arn), depends_on=[log_policy])

        self.domain_name: str = self.domain.domain_name
        self.domain_arn: str = self.domain.arn
        self.domain_endpoint: str = self.domain.endpoint
        self.security_group_id: str = self.security_group.id
        self.log_group_names: dict[str, str] = {t: g.name for t, g in self.log_groups.items()}
        self.alarms = self._alarms(props)
        self.alarm_names: tuple[str, ...] = tuple(a.alarm_name for a in self.alarms)

    # --- metrics ------------------------------------------------------------------------

    def metric(self, metric_name: str, *, stat: str = "Maximum", period: int = 60) -> Metric:
        """The domain's ``AWS/ES`` metric ``metric_name`` (``ClusterStatus.red``, ``FreeStorageSpace``...),
        with the dimensions :func:`metrics.opensearch` states: without the account id (the seed's
        placeholder) an alarm matches no data and never fires."""
        return metrics.opensearch(metric_name, self.domain.domain_name, self.account_id, stat=stat, period=period)

    # --- validation ---------------------------------------------------------------------

    @staticmethod
    def _validate(id_: str, p: VectorDatabaseProps) -> None:
        where = f"VectorDatabase {id_}"
        check(p.domain_name, ResourceKind.OPENSEARCH_DOMAIN)
        if not re.fullmatch(ENGINE_VERSION_PATTERN, p.engine_version):
            raise ValidationError(f"{where}: engine_version must look like 'OpenSearch_2.19', got {p.engine_version!r}")
        if not p.instance_type.endswith(".search"):
            raise ValidationError(f"{where}: instance_type must end in '.search', got {p.instance_type!r}")
        if p.availability_zones not in AVAILABILITY_ZONES:
            raise ValidationError(f"{where}: availability_zones must be 1, 2 or 3, got {p.availability_zones!r}")
        if p.instance_count < 1 or (p.availability_zones > 1 and p.instance_count % p.availability_zones):
            raise ValidationError(
                f"{where}: instance_count must be a positive multiple of availability_zones "
                f"({p.availability_zones}), got {p.instance_count!r}"
            )
        if not Token.is_unresolved(list(p.subnet_ids)) and len(p.subnet_ids) < p.availability_zones:
            raise ValidationError(
                f"{where}: subnet_ids must have one subnet per AZ ({p.availability_zones}), got {len(p.subnet_ids)}"
            )
        if not p.allowed_security_group_ids:
            raise ValidationError(
                f"{where}: allowed_security_group_ids must name the application tier, got {p.allowed_security_group_ids!r}"
            )
        if p.dedicated_master_count not in DEDICATED_MASTER_COUNTS:
            raise ValidationError(f"{where}: dedicated_master_count must be 0, 3 or 5, got {p.dedicated_master_count!r}")
        if p.dedicated_master_count and not (p.dedicated_master_type or "").endswith(".search"):
            raise ValidationError(
                f"{where}: dedicated_master_type must be a '.search' type when dedicated_master_count is "
                f"{p.dedicated_master_count}, got {p.dedicated_master_type!r}"
            )
        for name, (low, high) in (
            ("volume_size_gb", VOLUME_SIZE_GB),
            ("volume_iops", (gp3.BASELINE_IOPS, gp3.MAX_IOPS)),
            ("volume_throughput", (gp3.BASELINE_THROUGHPUT_MIBPS, gp3.MAX_THROUGHPUT_MIBPS)),
        ):
            if not low <= getattr(p, name) <= high:
                raise ValidationError(f"{where}: {name} must be {low}..{high} (gp3), got {getattr(p, name)!r}")
        if p.tls_security_policy not in TLS_POLICIES:
            raise ValidationError(f"{where}: tls_security_policy must be one of {TLS_POLICIES}, got {p.tls_security_policy!r}")
        if not 0 <= p.automated_snapshot_start_hour <= 23:
            raise ValidationError(
                f"{where}: automated_snapshot_start_hour must be 0..23, got {p.automated_snapshot_start_hour!r}"
            )
        check_retention(where, "log_retention_days", p.log_retention_days)
        for name in ("kms_key_arn", "log_kms_key_arn", "alarm_topic_arn"):
            if not getattr(p, name):
                raise ValidationError(f"{where}: {name} is required, got {getattr(p, name)!r}")
        if not 1 <= p.free_storage_alarm_percent <= 90:
            raise ValidationError(
                f"{where}: free_storage_alarm_percent must be 1..90, got {p.free_storage_alarm_percent!r}"
            )
        if not 50 <= p.jvm_pressure_alarm_percent <= 100:
            raise ValidationError(
                f"{where}: jvm_pressure_alarm_percent must be 50..100, got {p.jvm_pressure_alarm_percent!r}"
            )

    # --- parts --------------------------------------------------------------------------

    def _create_log_groups(self, p: VectorDatabaseProps) -> dict[str, aws.cloudwatch_log_group.CloudwatchLogGroup]:
        return {
            log_type: EncryptedLogGroup(
                self,
                f"log-{log_type.lower().replace('_', '-')}",
                EncryptedLogGroupProps(
                    name=f"/aws/opensearch/{p.domain_name}/{log_type.lower().replace('_', '-')}",
                    retention_days=p.log_retention_days,
                    kms_key_arn=p.log_kms_key_arn,
                ),
            ).resource
            for log_type in LOG_TYPES
        }

    def _access_policy(self, account_root: str, domain_arn: str):
        return policy_document(
            self,
            "access-policy",
            [
                # The resource policy only delegates to IAM: a principal also needs es:ESHttp*
                # in its own policies, and fine-grained access control then maps it to roles.
                Statement(
                    sid="AccountPrincipals",
                    actions=("es:ESHttp*",),
                    resources=(f"{domain_arn}/*",),
                    principals=(Principal("AWS", (account_root,)),),
                )
            ],
        )

    def _create_domain(self, p: VectorDatabaseProps, access_policy, depends_on: list):
        zone_aware = p.availability_zones > 1
        dos = aws.opensearch_domain
        return dos.OpensearchDomain(
            self,
            "domain",
            domain_name=p.domain_name,
            engine_version=p.engine_version,
            cluster_config=dos.OpensearchDomainClusterConfig(
                instance_type=p.instance_type,
                instance_count=p.instance_count,
                dedicated_master_enabled=p.dedicated_master_count > 0,
                dedicated_master_count=p.dedicated_master_count or None,
                dedicated_master_type=p.dedicated_master_type if p.dedicated_master_count else None,
                zone_awareness_enabled=zone_aware,
                zone_awareness_config=dos.OpensearchDomainClusterConfigZoneAwarenessConfig(
                    availability_zone_count=p.availability_zones
                )
                if zone_aware
                else None,
            ),
            ebs_options=dos.OpensearchDomainEbsOptions(
                ebs_enabled=True,
                volume_type="gp3",
                volume_size=p.volume_size_gb,
                iops=p.volume_iops,
                throughput=p.volume_throughput,
            ),
            vpc_options=dos.OpensearchDomainVpcOptions(
                subnet_ids=list(p.subnet_ids[: p.availability_zones]),
                security_group_ids=[self.security_group.id],
            ),
            encrypt_at_rest=dos.OpensearchDomainEncryptAtRest(enabled=True, kms_key_id=p.kms_key_arn),
            node_to_node_encryption=dos.OpensearchDomainNodeToNodeEncryption(enabled=True),
            domain_endpoint_options=dos.OpensearchDomainDomainEndpointOptions(
                enforce_https=True, tls_security_policy=p.tls_security_policy
            ),
            advanced_security_options=dos.OpensearchDomainAdvancedSecurityOptions(
                enabled=True,
                anonymous_auth_enabled=False,
                # IAM only: no internal users, so no master password to keep in Terraform state.
                internal_user_database_enabled=False,
                master_user_options=dos.OpensearchDomainAdvancedSecurityOptionsMasterUserOptions(
                    master_user_arn=self.master_role_arn
                ),
            ),
            access_policies=access_policy.json,
            # OpenSearch 5.3+ takes hourly snapshots whatever this says; the hour is kept
            # so that the daily retention point is predictable for restores.
            snapshot_options=dos.OpensearchDomainSnapshotOptions(
                automated_snapshot_start_hour=p.automated_snapshot_start_hour
            ),
            software_update_options=dos.OpensearchDomainSoftwareUpdateOptions(auto_software_update_enabled=True),
            log_publishing_options=[
                dos.OpensearchDomainLogPublishingOptions(
                    log_type=log_type, cloudwatch_log_group_arn=group.arn, enabled=True
                )
                for log_type, group in self.log_groups.items()
            ],
            # The service checks at creation that it may write to the log groups.
            depends_on=depends_on,
        )

    def _security_group(self, p: VectorDatabaseProps):
        name = check(f"{p.domain_name}-sg", ResourceKind.SECURITY_GROUP)
        # No egress rules: the domain answers requests and never opens connections into the
        # VPC (Terraform removes AWS's default allow-all egress rule).
        sg = aws.security_group.SecurityGroup(
            self,
            "security-group",
            name=name,
            description=f"OpenSearch domain {p.domain_name}: HTTPS from the application tier only",
            vpc_id=p.vpc_id,
            tags={"Name": name},
        )
        for index, source in enumerate(p.allowed_security_group_ids):
            aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
                self,
                f"ingress-https-{index}",
                security_group_id=sg.id,
                referenced_security_group_id=source,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description="HTTPS from the application tier",
            )
        return sg

    def _master_role(self, p: VectorDatabaseProps, account_root: str, domain_arn: str) -> str:
        trust = policy_document(
            self,
            "master-role-trust",
            [Statement(sid="AccountPrincipals", actions=("sts:AssumeRole",), principals=(Principal("AWS", (account_root,)),))],
        )
        role = aws.iam_role.IamRole(
            self,
            "master-role",
            name=check(f"{p.domain_name}-admin", ResourceKind.IAM_ROLE),
            description=f"OpenSearch fine-grained access control master user of {p.domain_name}",
            assume_role_policy=trust.json,
            max_session_duration=3600,
        )
        permissions = policy_document(
            self,
            "master-role-permissions",
            [Statement(sid="DomainHttp", actions=("es:ESHttp*",), resources=(domain_arn, f"{domain_arn}/*"))],
        )
        aws.iam_role_policy.IamRolePolicy(
            self, "master-role-policy", name="opensearch-http", role=role.name, policy=permissions.json
        )
        return role.arn

    def _log_resource_policy(self, p: VectorDatabaseProps, account_id: str, domain_arn: str):
        document = policy_document(
            self,
            "log-policy-document",
            [
                Statement(
                    sid="OpenSearchLogs",
                    actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                    resources=tuple(f"{g.arn}:*" for g in self.log_groups.values()),
                    principals=(Principal("Service", ("es.amazonaws.com",)),),
                    # Against the confused deputy: only this account's domain may write.
                    conditions=(
                        Condition("StringEquals", "aws:SourceAccount", (account_id,)),
                        Condition("ArnLike", "aws:SourceArn", (domain_arn,)),
                    ),
                )
            ],
        )
        # At most 10 resource policies per account and region: one per domain, not one per group.
        return aws.cloudwatch_log_resource_policy.CloudwatchLogResourcePolicy(
            self, "log-policy", policy_name=f"{p.domain_name}-opensearch-logs", policy_document=document.json
        )

    def _alarms(self, p: VectorDatabaseProps) -> list[MetricAlarm]:
        specs = health_alarm_specs(
            volume_size_gb=p.volume_size_gb,
            instance_count=p.instance_count,
            free_storage_percent=p.free_storage_alarm_percent,
            jvm_pressure_percent=p.jvm_pressure_alarm_percent,
        )
        return [
            MetricAlarm(
                self,
                f"alarm-{spec.id}",
                AlarmProps(
                    alarm_name=check(f"{p.domain_name}-{spec.id}", ResourceKind.CLOUDWATCH_ALARM),
                    description=f"OpenSearch {p.domain_name}: {spec.description}",
                    metric=self.metric(spec.metric, stat=spec.stat, period=spec.period),
                    comparison=spec.comparison,
                    threshold=spec.threshold,
                    evaluation_periods=spec.evaluation_periods,
                    datapoints_to_alarm=spec.datapoints_to_alarm,
                    treat_missing_data=spec.treat_missing_data,
                    alarm_actions=(p.alarm_topic_arn,),
                    ok_actions=(p.alarm_topic_arn,),
                ),
            )
            for spec in specs
        ]

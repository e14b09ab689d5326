"""``VpcFlowLogs``: every flow of a VPC into a KMS-encrypted, retained CloudWatch log group.

The delivery role trusts ``vpc-flow-logs.amazonaws.com`` only for flow logs of
this account in this region (``aws:SourceAccount`` / ``aws:SourceArn``, against
the confused deputy:
https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html) and
may write only to its own log group.
"""

from __future__ import annotations

from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupProps, check_retention
from constructs_lib.naming import ResourceKind, check
from constructs_lib.networking.flow_logs_props import AGGREGATION_INTERVALS, TRAFFIC_TYPES, VpcFlowLogsProps
from constructs_lib.providers import aws
from constructs_lib.security.iam_role import IamRole, IamRoleProps, InlinePolicy
from constructs_lib.security.policy import Condition, Principal, Statement


class VpcFlowLogs(Construct):
    """Flow log, log group and delivery role for one VPC.

    Outputs: ``log_group_name``, ``log_group_arn``, ``role_arn``, ``flow_log_id``.
    """

    def __init__(self, scope: Construct, id_: str, props: VpcFlowLogsProps):
        super().__init__(scope, id_)
        check(props.log_group_name, ResourceKind.LOG_GROUP)
        check_retention(f"VpcFlowLogs {id_}", "retention_days", props.retention_days)
        if props.traffic_type not in TRAFFIC_TYPES:
            raise ValidationError(f"VpcFlowLogs {id_}: traffic_type must be ALL, ACCEPT or REJECT, got {props.traffic_type!r}")
        if props.max_aggregation_interval not in AGGREGATION_INTERVALS:
            raise ValidationError(
                f"VpcFlowLogs {id_}: max_aggregation_interval must be 60 or 600, got {props.max_aggregation_interval!r}"
            )
        if not props.kms_key_arn:
            raise ValidationError(f"VpcFlowLogs {id_}: kms_key_arn is required (flow logs are encrypted), got {props.kms_key_arn!r}")

        identity = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "identity")
        partition = aws.data_aws_partition.DataAwsPartition(self, "partition")
        region = aws.data_aws_region.DataAwsRegion(self, "region")
        account = identity.account_id

        self.log_group = EncryptedLogGroup(
            self,
            "log-group",
            EncryptedLogGroupProps(name=props.log_group_name, retention_days=props.retention_days, kms_key_arn=props.kms_key_arn),
        ).resource
        self.role = IamRole(
            self,
            "role",
            IamRoleProps(
                role_name=props.role_name,
                description="VPC flow logs delivery to CloudWatch Logs",
                assumed_by=(Principal("Service", ("vpc-flow-logs.amazonaws.com",)),),
                trust_conditions=(
                    Condition("StringEquals", "aws:SourceAccount", (account,)),
                    Condition(
                        "ArnLike",
                        "aws:SourceArn",
                        (f"arn:{partition.partition}:ec2:{region.name}:{account}:vpc-flow-log/*",),
                    ),
                ),
                inline_policies=(
                    InlinePolicy(
                        name="deliver-flow-logs",
                        statements=(
                            Statement(
                                sid="WriteOwnLogGroup",
                                actions=("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
                                resources=(self.log_group.arn, f"{self.log_group.arn}:*"),
                            ),
                            # DescribeLogGroups has no per-group resource: it lists by prefix.
                            Statement(
                                sid="FindLogGroup",
                                actions=("logs:DescribeLogGroups",),
                                resources=(f"arn:{partition.partition}:logs:{region.name}:{account}:log-group:*",),
                            ),
                        ),
                    ),
                ),
            ),
        )
        self.flow_log = aws.flow_log.FlowLog(
            self,
            "flow-log",
            vpc_id=props.vpc_id,
            traffic_type=props.traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=self.log_group.arn,
            iam_role_arn=self.role.role_arn,
            max_aggregation_interval=props.max_aggregation_interval,
            tags={"Name": props.log_group_name},
        )
        self.log_group_name: str = self.log_group.name
        self.log_group_arn: str = self.log_group.arn
        self.role_arn: str = self.role.role_arn
        self.flow_log_id: str = self.flow_log.id

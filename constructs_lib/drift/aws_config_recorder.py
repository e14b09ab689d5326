"""``ConfigRecorder``: AWS Config recording every supported resource of an account and region.

What the seed's drift detection needs, complete: the recorder, its IAM role
(``AWS_ConfigRole`` plus delivery permissions), a delivery channel to a
``SecureBucket`` and an SNS topic, and the recorder status, which starts
recording and can only do so once a delivery channel exists.

AWS allows one recorder and one delivery channel per account and region; the
configuration (``drift.record_config``) says which environment owns them, and
``sophia_config.load`` refuses two owners.

The notification topic is not KMS-encrypted: AWS Config cannot publish to
encrypted SNS topics (https://docs.aws.amazon.com/config/latest/developerguide/sns-topic-policy.html).
It carries configuration-change metadata, not data; its policy admits this
account only and TLS only. The history in S3 is encrypted with a customer key.
"""

from __future__ import annotations

from cdktf import TerraformDataSource, TerraformResource
from constructs import Construct

from constructs_lib import guards
from constructs_lib.drift.aws_config_recorder_props import (
    DELIVERY_FREQUENCIES,
    MIN_HISTORY_RETENTION_DAYS,
    RECORDING_FREQUENCIES,
    ConfigRecorderProps,
)
from constructs_lib.errors import ValidationError
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.iam_role import IamRole, IamRoleProps, InlinePolicy
from constructs_lib.security.policy import Condition, Principal, Statement, deny_insecure_transport, policy_document
from constructs_lib.storage.secure_bucket import LifecycleRule, SecureBucket, SecureBucketProps, Transition

_CONFIG_SERVICE = (Principal("Service", ("config.amazonaws.com",)),)
_OWNER_FULL_CONTROL = Condition("StringEquals", "s3:x-amz-acl", ("bucket-owner-full-control",))
# Config never sends a full snapshot more than daily; older history is rarely read.
_ARCHIVE_AFTER_DAYS = 90


class ConfigRecorder(Construct):
    """Outputs: ``recorder_name``, ``role_arn``, ``bucket_name``, ``bucket_arn``, ``topic_arn``."""

    def __init__(self, scope: Construct, id_: str, props: ConfigRecorderProps):
        super().__init__(scope, id_)
        self._validate(id_, props)
        identity = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "identity")
        partition = aws.data_aws_partition.DataAwsPartition(self, "partition")
        self._partition = partition.partition
        self._account = account = identity.account_id
        self._bucket_arn = f"arn:{partition.partition}:s3:::{props.bucket_name}"
        self._delivery_arn = f"{self._bucket_arn}/AWSLogs/{account}/Config/*"
        self._same_account = Condition("StringEquals", "aws:SourceAccount", (account,))

        self.bucket = self._create_bucket(props)
        self.topic = self._create_topic(props)
        self.role = self._create_role(props)
        self._create_recorder(props)

        self.recorder_name: str = self.recorder.name
        self.role_arn: str = self.role.role_arn
        self.bucket_name: str = self.bucket.bucket_name
        self.bucket_arn: str = self.bucket.bucket_arn
        self.topic_arn: str = self.topic.arn

    # --- pieces ---------------------------------------------------------------------------

    def _create_bucket(self, props: ConfigRecorderProps) -> SecureBucket:
        return SecureBucket(
            self,
            "bucket",
            SecureBucketProps(
                bucket_name=props.bucket_name,
                kms_key_arn=props.bucket_kms_key_arn,
                force_destroy=props.force_destroy_bucket,
                lifecycle_rules=(
                    LifecycleRule(
                        id="config-history",
                        transitions=(Transition(_ARCHIVE_AFTER_DAYS, "GLACIER_IR"),)
                        if props.history_retention_days > _ARCHIVE_AFTER_DAYS
                        else (),
                        expiration_days=props.history_retention_days,
                        noncurrent_expiration_days=30,
                    ),
                ),
                # For deliveries made by the service principal rather than the role
                # (https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html).
                extra_policy_statements=(
                    Statement(
                        sid="ConfigBucketPermissionsCheck",
                        actions=("s3:GetBucketAcl", "s3:ListBucket"),
                        resources=(self._bucket_arn,),
                        principals=_CONFIG_SERVICE,
                        conditions=(self._same_account,),
                    ),
                    Statement(
                        sid="ConfigBucketDelivery",
                        actions=("s3:PutObject",),
                        resources=(self._delivery_arn,),
                        principals=_CONFIG_SERVICE,
                        conditions=(_OWNER_FULL_CONTROL, self._same_account),
                    ),
                ),
            ),
        )

    def _create_topic(self, props: ConfigRecorderProps) -> aws.sns_topic.SnsTopic:
        topic = aws.sns_topic.SnsTopic(self, "topic", name=props.topic_name)
        guards.exempt(topic, "unencrypted", "AWS Config cannot publish to a KMS-encrypted SNS topic (module docstring)")
        topic_policy = policy_document(
            self,
            "topic-policy-document",
            [
                Statement(
                    sid="AccountAdministration",
                    actions=(
                        "sns:GetTopicAttributes",
                        "sns:SetTopicAttributes",
                        "sns:Subscribe",
                        "sns:ListSubscriptionsByTopic",
                        "sns:DeleteTopic",
                    ),
                    resources=(topic.arn,),
                    principals=(Principal("AWS", (f"arn:{self._partition}:iam::{self._account}:root",)),),
                ),
                Statement(
                    sid="ConfigPublish",
                    actions=("sns:Publish",),
                    resources=(topic.arn,),
                    principals=_CONFIG_SERVICE,
                    conditions=(self._same_account,),
                ),
                deny_insecure_transport(("sns:Publish",), (topic.arn,)),
            ],
        )
        aws.sns_topic_policy.SnsTopicPolicy(self, "topic-policy", arn=topic.arn, policy=topic_policy.json)
        return topic

    def _create_role(self, props: ConfigRecorderProps) -> IamRole:
        return IamRole(
            self,
            "role",
            IamRoleProps(
                role_name=props.role_name,
                description="AWS Config reads resource configurations and delivers them to S3 and SNS",
                assumed_by=_CONFIG_SERVICE,
                trust_conditions=(self._same_account,),
                managed_policy_arns=(f"arn:{self._partition}:iam::aws:policy/service-role/AWS_ConfigRole",),
                inline_policies=(
                    InlinePolicy(
                        name="config-delivery",
                        statements=(
                            Statement(sid="BucketAcl", actions=("s3:GetBucketAcl",), resources=(self._bucket_arn,)),
                            Statement(
                                sid="Deliver",
                                actions=("s3:PutObject",),
                                resources=(self._delivery_arn,),
                                conditions=(_OWNER_FULL_CONTROL,),
                            ),
                            Statement(
                                sid="EncryptDeliveries",
                                actions=("kms:GenerateDataKey", "kms:Decrypt"),
                                resources=(props.bucket_kms_key_arn,),
                            ),
                            Statement(sid="Notify", actions=("sns:Publish",), resources=(self.topic.arn,)),
                        ),
                    ),
                ),
            ),
        )

    def _create_recorder(self, props: ConfigRecorderProps) -> None:
        recorder_ns = aws.config_configuration_recorder
        self.recorder = recorder_ns.ConfigConfigurationRecorder(
            self,
            "recorder",
            name=props.name,
            role_arn=self.role.role_arn,
            recording_group=recorder_ns.ConfigConfigurationRecorderRecordingGroup(
                all_supported=True, include_global_resource_types=props.include_global_resources
            ),
            recording_mode=recorder_ns.ConfigConfigurationRecorderRecordingMode(
                recording_frequency=props.recording_frequency
            ),
        )
        channel_ns = aws.config_delivery_channel
        # PutDeliveryChannel checks that Config can write to the bucket: the bucket
        # policy and the role's permissions must exist first, and so must the recorder.
        self.delivery_channel = channel_ns.ConfigDeliveryChannel(
            self,
            "delivery-channel",
            name=props.name,
            s3_bucket_name=self.bucket.bucket_name,
            s3_kms_key_arn=props.bucket_kms_key_arn,
            sns_topic_arn=self.topic.arn,
            snapshot_delivery_properties=channel_ns.ConfigDeliveryChannelSnapshotDeliveryProperties(
                delivery_frequency=props.delivery_frequency
            ),
            depends_on=[self.recorder, self.bucket.policy, *self._resources(self.role)],
        )
        # Starting the recorder fails without a delivery channel.
        self.status = aws.config_configuration_recorder_status.ConfigConfigurationRecorderStatus(
            self, "status", name=self.recorder.name, is_enabled=True, depends_on=[self.delivery_channel]
        )

    @staticmethod
    def _resources(scope: Construct) -> list[TerraformResource]:
        """The role and its policy attachments: depending on them all means the permissions are in place."""
        return [
            node
            for node in scope.node.find_all()
            if isinstance(node, TerraformResource) and not isinstance(node, TerraformDataSource)
        ]

    @staticmethod
    def _validate(id_: str, props: ConfigRecorderProps) -> None:
        where = f"ConfigRecorder {id_}"
        check(props.name, ResourceKind.GENERIC)
        check(props.topic_name, ResourceKind.SNS_TOPIC)
        check(props.role_name, ResourceKind.IAM_ROLE)
        if len(props.name) > 256:
            raise ValidationError(f"{where}: name must be at most 256 characters, got {len(props.name)}")
        if props.delivery_frequency not in DELIVERY_FREQUENCIES:
            raise ValidationError(
                f"{where}: delivery_frequency must be one of {DELIVERY_FREQUENCIES}, got {props.delivery_frequency!r}"
            )
        if props.recording_frequency not in RECORDING_FREQUENCIES:
            raise ValidationError(
                f"{where}: recording_frequency must be 'CONTINUOUS' or 'DAILY', got {props.recording_frequency!r}"
            )
        if props.history_retention_days < MIN_HISTORY_RETENTION_DAYS:
            raise ValidationError(
                f"{where}: history_retention_days must be >= {MIN_HISTORY_RETENTION_DAYS}, got {props.history_retention_days}"
            )

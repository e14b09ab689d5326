"""``shared-<env>``: account-wide services every other stack relies on: the alarm topic and AWS Config."""

from __future__ import annotations

from constructs import Construct

from constructs_lib import tagging
from constructs_lib.drift.aws_config_recorder import ConfigRecorder, ConfigRecorderProps
from constructs_lib.monitoring.alarm_topic import AlarmTopic, AlarmTopicProps, SlackChannel, TopicSubscription
from constructs_lib.naming import ResourceKind
from stacks.base import EnvironmentStack, StackContext
from stacks.security import SecurityStack


class SharedStack(EnvironmentStack):
    function = "shared"

    def __init__(self, scope: Construct, ctx: StackContext, *, security: SecurityStack):
        super().__init__(scope, ctx)
        cfg = ctx.config
        naming = self.naming

        self.alarm_topic = AlarmTopic(
            self,
            "alarm-topic",
            AlarmTopicProps(
                topic_name=naming.name("shared", "alarms", kind=ResourceKind.SNS_TOPIC),
                display_name=f"{ctx.project.name} {ctx.env_name} alarms",
                kms_key_arn=security.kms_key_arn("alerts"),
                subscriptions=tuple(TopicSubscription(s.protocol, s.endpoint) for s in cfg.alerts.subscriptions),
                slack_channels=tuple(SlackChannel(c.team_id, c.channel_id) for c in cfg.alerts.slack_channels),
                chatbot_role_name=naming.name("shared", "alarms-chatbot", kind=ResourceKind.IAM_ROLE),
            ),
        )
        tagging.set_component(self.alarm_topic, "alerting")
        self.alarm_topic_arn: str = self.alarm_topic.topic_arn
        self.output("alarm_topic_arn", self.alarm_topic_arn, "SNS topic every alarm of the environment notifies")

        # One recorder per account and region: only the environment that owns it
        # (drift.record_config, checked across environments at load) creates it.
        self.config_recorder: ConfigRecorder | None = None
        if cfg.drift.record_config:
            drift = cfg.drift
            self.config_recorder = ConfigRecorder(
                self,
                "config",
                ConfigRecorderProps(
                    name=naming.name("shared", "config-recorder"),
                    # The account id keeps the globally unique bucket name unique per account.
                    bucket_name=naming.name("shared", "config", suffix=cfg.aws.account_id, kind=ResourceKind.S3_BUCKET),
                    bucket_kms_key_arn=security.kms_key_arn("logs"),
                    role_name=naming.name("shared", "config-recorder", kind=ResourceKind.IAM_ROLE),
                    topic_name=naming.name("shared", "config-changes", kind=ResourceKind.SNS_TOPIC),
                    include_global_resources=drift.include_global_resources,
                    recording_frequency=drift.recording_frequency,
                    delivery_frequency=drift.delivery_frequency,
                    history_retention_days=drift.history_retention_days,
                    force_destroy_bucket=cfg.storage.force_destroy_buckets,
                ),
            )
            tagging.set_component(self.config_recorder, "drift-detection")
            self.output(
                "config_recorder_name", self.config_recorder.recorder_name, "AWS Config recorder of this account+region"
            )
            self.output("config_bucket_name", self.config_recorder.bucket_name, "Bucket of the AWS Config history")
            self.output(
                "config_topic_arn", self.config_recorder.topic_arn, "SNS topic of AWS Config change notifications"
            )

"""``shared-<env>``: account-wide services every other stack relies on: the alarm topic and AWS Config."""

from __future__ import annotations

from constructs import Construct

from constructs_lib import tagging
from constructs_lib.drift.aws_config_recorder import ConfigRecorder
from constructs_lib.drift.aws_config_recorder_props import ConfigRecorderProps
from constructs_lib.monitoring.alarm_topic import AlarmTopic
from constructs_lib.monitoring.alarm_topic_props import AlarmTopicProps, SlackChannel, TopicSubscription
from constructs_lib.naming import ResourceKind
from stacks.base import EnvironmentStack, StackContext
from stacks.outputs import export
from stacks.security import SecurityStack


class SharedStack(EnvironmentStack):
    """Exposes ``alarm_topic`` (:class:`AlarmTopic`: every alarm notifies ``.topic_arn``) and
    ``config_recorder`` (:class:`ConfigRecorder`, or None where another environment owns it)."""

    function = "shared"

    def __init__(self, scope: Construct, ctx: StackContext, *, security: SecurityStack):
        super().__init__(scope, ctx)
        self.alarm_topic = self._create_alarm_topic(ctx, security)
        export(self, self.alarm_topic, prefix="alarm_", topic_arn="SNS topic every alarm of the environment notifies")
        # One recorder per account and region: only the environment that owns it
        # (drift.record_config, checked across environments at load) creates it.
        self.config_recorder: ConfigRecorder | None = None
        if ctx.config.drift.record_config:
            self.config_recorder = self._create_config_recorder(ctx, security)
            export(
                self,
                self.config_recorder,
                prefix="config_",
                recorder_name="AWS Config recorder of this account+region",
                bucket_name="Bucket of the AWS Config history",
                topic_arn="SNS topic of AWS Config change notifications",
            )

    def _create_alarm_topic(self, ctx: StackContext, security: SecurityStack) -> AlarmTopic:
        alerts, name = ctx.config.alerts, self.naming.name
        topic = AlarmTopic(
            self,
            "alarm-topic",
            AlarmTopicProps(
                topic_name=name("shared", "alarms", kind=ResourceKind.SNS_TOPIC),
                display_name=f"{ctx.project.name} {ctx.env_name} alarms",
                kms_key_arn=security.kms_key_arn("alerts"),
                subscriptions=tuple(TopicSubscription(s.protocol, s.endpoint) for s in alerts.subscriptions),
                slack_channels=tuple(SlackChannel(c.team_id, c.channel_id) for c in alerts.slack_channels),
                chatbot_role_name=name("shared", "alarms-chatbot", kind=ResourceKind.IAM_ROLE),
            ),
        )
        tagging.set_component(topic, "alerting")
        return topic

    def _create_config_recorder(self, ctx: StackContext, security: SecurityStack) -> ConfigRecorder:
        cfg, name = ctx.config, self.naming.name
        drift = cfg.drift
        recorder = ConfigRecorder(
            self,
            "config",
            ConfigRecorderProps(
                name=name("shared", "config-recorder"),
                # The account id keeps the globally unique bucket name unique per account.
                bucket_name=name("shared", "config", suffix=cfg.aws.account_id, kind=ResourceKind.S3_BUCKET),
                bucket_kms_key_arn=security.kms_key_arn("logs"),
                role_name=name("shared", "config-recorder", kind=ResourceKind.IAM_ROLE),
                topic_name=name("shared", "config-changes", kind=ResourceKind.SNS_TOPIC),
                include_global_resources=drift.include_global_resources,
                recording_frequency=drift.recording_frequency,
                delivery_frequency=drift.delivery_frequency,
                history_retention_days=drift.history_retention_days,
                force_destroy_bucket=cfg.storage.force_destroy_buckets,
            ),
        )
        tagging.set_component(recorder, "drift-detection")
        return recorder

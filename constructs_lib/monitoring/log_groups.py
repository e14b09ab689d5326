"""The application's CloudWatch log groups: one for the application, one per component."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import Token
from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupProps, check_retention
from constructs_lib.naming import ResourceKind, check

_COMPONENT = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# CloudWatch Logs takes a key ARN only, not an alias or a key id.
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]+$")


@dataclass(frozen=True)
class LogGroupsProps:
    application_log_group_name: str
    """Name of the log group every service may write to."""
    component_log_group_names: tuple[tuple[str, str], ...]
    """``(component, log group name)`` pairs, one log group each. Default: none."""
    retention_days: int
    """Retention of every group, one of the values CloudWatch Logs accepts (config ``logging.retention_days``)."""
    kms_key_arn: str
    """Customer-managed key that encrypts the groups (the ``logs`` key of the security stack).
    Its policy must let ``logs.<region>.amazonaws.com`` use it."""
    log_group_class: str = "STANDARD"
    """``STANDARD`` or ``INFREQUENT_ACCESS`` (half the ingestion price, no metric filters or
    subscriptions). Default: ``STANDARD``."""


class LogGroups(Construct):
    """KMS-encrypted log groups with a bounded retention.

    Outputs: ``application_log_group_name``, ``application_log_group_arn``,
    ``component_log_group_names`` (component -> name), ``log_group_names`` (all, application first).
    """

    def __init__(self, scope: Construct, id_: str, props: LogGroupsProps):
        super().__init__(scope, id_)
        self._validate(id_, props)
        self.application = self._log_group("application", props.application_log_group_name, props)
        self.components = {
            component: self._log_group(f"component-{component}", name, props)
            for component, name in props.component_log_group_names
        }
        self.application_log_group_name: str = props.application_log_group_name
        self.application_log_group_arn: str = self.application.arn
        self.component_log_group_names: dict[str, str] = dict(props.component_log_group_names)
        self.log_group_names: tuple[str, ...] = (props.application_log_group_name,) + tuple(
            name for _, name in props.component_log_group_names
        )

    def _log_group(self, id_: str, name: str, props: LogGroupsProps):
        return EncryptedLogGroup(
            self,
            id_,
            EncryptedLogGroupProps(
                name=name, retention_days=props.retention_days, kms_key_arn=props.kms_key_arn, log_group_class=props.log_group_class
            ),
        ).resource

    @staticmethod
    def _validate(id_: str, props: LogGroupsProps) -> None:
        where = f"LogGroups {id_}"
        check_retention(where, "retention_days", props.retention_days)
        if not Token.is_unresolved(props.kms_key_arn) and not _KEY_ARN.fullmatch(props.kms_key_arn):
            raise ValidationError(f"{where}: kms_key_arn must be a KMS key ARN (not an alias), got {props.kms_key_arn!r}")
        names = [props.application_log_group_name] + [name for _, name in props.component_log_group_names]
        for name in names:
            check(name, ResourceKind.LOG_GROUP)
        if len(set(names)) != len(names):
            raise ValidationError(f"{where}: log group names must be unique, got {names!r}")
        components = [component for component, _ in props.component_log_group_names]
        for component in components:
            if not _COMPONENT.fullmatch(component):
                raise ValidationError(
                    f"{where}: component {component!r} must be lowercase letters, digits and single '-'"
                )
        if len(set(components)) != len(components):
            raise ValidationError(f"{where}: components must be unique, got {components!r}")

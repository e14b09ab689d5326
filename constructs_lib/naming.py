"""Resource names: ``{project}-{component}-{resource_type}-{environment}[-{suffix}]``.

The one place that builds physical names. Each name is checked against the
limits of the AWS resource that carries it, so that an over-long or invalid
name fails at synth time with the name, its length and the limit, not minutes
into a deploy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from constructs_lib.errors import ValidationError


class NamingError(ValidationError):
    """A generated name breaks an AWS limit."""


@dataclass(frozen=True)
class NameRule:
    max_length: int
    pattern: re.Pattern[str]
    description: str


_LOWER_DASH = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


class ResourceKind(Enum):
    """The AWS naming rules we build names for (lengths from the service quotas pages)."""

    GENERIC = NameRule(255, re.compile(r"^[A-Za-z0-9._/-]+$"), "letters, digits, '.', '_', '/', '-'")
    S3_BUCKET = NameRule(63, _LOWER_DASH, "lowercase letters, digits and '-', starting and ending alphanumeric")
    IAM_ROLE = NameRule(64, re.compile(r"^[A-Za-z0-9+=,.@_-]+$"), "letters, digits and '+=,.@_-'")
    IAM_POLICY = NameRule(128, re.compile(r"^[A-Za-z0-9+=,.@_-]+$"), "letters, digits and '+=,.@_-'")
    OPENSEARCH_DOMAIN = NameRule(28, re.compile(r"^[a-z][a-z0-9-]{2,27}$"), "lowercase letters, digits and '-', starting with a letter")
    RDS_INSTANCE = NameRule(63, re.compile(r"^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$"), "lowercase letters, digits and single '-', starting with a letter")
    EKS_CLUSTER = NameRule(100, re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$"), "letters, digits, '-' and '_'")
    EKS_NODE_GROUP = NameRule(63, re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$"), "letters, digits, '-' and '_'")
    DYNAMODB_TABLE = NameRule(255, re.compile(r"^[A-Za-z0-9_.-]{3,}$"), "letters, digits, '_', '-', '.'")
    ECR_REPOSITORY = NameRule(256, re.compile(r"^[a-z0-9]+([._/-][a-z0-9]+)*$"), "lowercase letters, digits, '.', '_', '/', '-'")
    KMS_ALIAS = NameRule(250, re.compile(r"^alias/[A-Za-z0-9/_-]+$"), "'alias/' then letters, digits, '/', '_', '-'")
    SECURITY_GROUP = NameRule(255, re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+$"), "ASCII letters, digits and punctuation")
    SNS_TOPIC = NameRule(256, re.compile(r"^[A-Za-z0-9_-]+$"), "letters, digits, '-' and '_'")
    LAUNCH_TEMPLATE = NameRule(128, re.compile(r"^[A-Za-z0-9().\-/_]+$"), "letters, digits and '()./-_'")
    CLOUDWATCH_DASHBOARD = NameRule(255, re.compile(r"^[A-Za-z0-9_-]+$"), "letters, digits, '-' and '_'")
    CLOUDWATCH_ALARM = NameRule(255, re.compile(r"^[A-Za-z0-9 ._/:()#-]+$"), "letters, digits, spaces and '._/:()#-'")
    LOG_GROUP = NameRule(512, re.compile(r"^[A-Za-z0-9_./#-]+$"), "letters, digits and '_./#-'")
    ALB = NameRule(32, re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$"), "letters, digits and '-'")
    SECRET = NameRule(512, re.compile(r"^[A-Za-z0-9/_+=.@-]+$"), "letters, digits and '/_+=.@-'")
    CODEBUILD_PROJECT = NameRule(255, re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$"), "letters, digits, '-' and '_', starting alphanumeric")
    K8S_NAME = NameRule(63, _LOWER_DASH, "lowercase letters, digits and '-' (RFC 1123 label)")


_PART = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Naming:
    """Builds names for one project and environment."""

    project: str
    environment: str

    def __post_init__(self) -> None:
        for field, value in (("project", self.project), ("environment", self.environment)):
            if not _PART.fullmatch(value):
                raise NamingError(f"naming: {field} {value!r} must be lowercase letters, digits and single '-'")

    def name(
        self,
        component: str,
        resource_type: str,
        suffix: str | None = None,
        kind: ResourceKind = ResourceKind.GENERIC,
    ) -> str:
        """``{project}-{component}-{resource_type}-{environment}[-{suffix}]``, checked against ``kind``."""
        parts = [self.project, component, resource_type, self.environment]
        if suffix:
            parts.append(suffix)
        for part in parts[1:3] + parts[4:]:
            if not _PART.fullmatch(part):
                raise NamingError(
                    f"naming: part {part!r} of a {kind.name} name must be lowercase letters, digits and single '-'"
                )
        return check("-".join(parts), kind)

    def alias(self, component: str, purpose: str) -> str:
        """A KMS alias for this project and environment."""
        return check(f"alias/{self.project}/{self.environment}/{component}-{purpose}", ResourceKind.KMS_ALIAS)


def check(name: str, kind: ResourceKind) -> str:
    """Return ``name`` if it satisfies ``kind``'s AWS limits, else raise :class:`NamingError`."""
    rule = kind.value
    if len(name) > rule.max_length:
        raise NamingError(
            f"naming: {kind.name} name {name!r} is {len(name)} characters, over the AWS limit of {rule.max_length}"
        )
    if not rule.pattern.fullmatch(name):
        raise NamingError(f"naming: {kind.name} name {name!r} is invalid: AWS allows {rule.description}")
    return name


def slug(text: str) -> str:
    """``text`` as lowercase letters, digits and single '-', for construct ids derived from
    names and keys (``nvidia.com/gpu`` -> ``nvidia-com-gpu``)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# Kubernetes label syntax (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set):
# a key is an optional DNS-subdomain prefix and '/', then a name of at most 63 characters;
# a value is empty or such a name. Taint keys follow the key rule.
K8S_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
K8S_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")

"""Field types and the base model shared by every configuration section.

Sections of the environment file live in their own modules
(``sophia_config/sections/<area>.py``) and build on these.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from constructs_lib.monitoring.encrypted_log_group import LOG_RETENTION_DAYS


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"invalid CIDR: {exc}") from None
    if network.version != 4:
        raise ValueError("only IPv4 VPC CIDRs are supported")
    if not 16 <= network.prefixlen <= 28:
        raise ValueError("a VPC CIDR must have a prefix length between /16 and /28 (AWS limit)")
    return str(network)


Cidr = Annotated[str, AfterValidator(_cidr)]
AccountId = Annotated[str, Field(pattern=r"^\d{12}$")]
Region = Annotated[str, Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")]
InstanceType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+(\.search)?$")]
PositiveInt = Annotated[int, Field(ge=1)]
RoleArn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_-]{1,64}$")]
"""An IAM role ARN at the root path (the project creates its roles there, and a role it
creates from an ARN needs the name alone)."""

def _retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"CloudWatch Logs accepts only {', '.join(map(str, LOG_RETENTION_DAYS))} days")
    return value


class Model(BaseModel):
    """Base of every configuration section: strict types, no unknown keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
LogRetentionDays = Annotated[int, AfterValidator(_retention)]

"""Field types and the base model shared by every configuration section.

Sections of the environment file live in their own modules
(``sophia_config/sections/<area>.py``) and build on these.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import typing
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

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

# Field metadata keys of the library's value types that are constraints of pydantic's Field
# (constructs_lib.limits.bounded writes ``ge`` and ``le``).
_CONSTRAINTS = ("ge", "le")


def library_value(value_type: type, *, defaults: Any = None, exclude: tuple[str, ...] = ()) -> Any:
    """The configuration type of the library's frozen dataclass ``value_type``.

    The library states each field's type, default and limits (``constructs_lib.limits.bounded``)
    and its cross-field rules (``__post_init__``). This builds a :class:`Model` (strict, closed,
    frozen) with the same fields, defaults and limits, so that a YAML mapping is checked field by
    field (``<file>: gpu_nodes.root_volume.iops: ... (value 100)``), then creates the library's
    own instance from it: a rule it refuses reads ``<file>: gpu_nodes.root_volume: <its message>``.
    The loaded value is what a construct takes, passed on as it is.

    ``defaults``: an instance of ``value_type`` whose values are the fields' defaults (a
    construct's own default, such as ``GPU_ROOT_VOLUME``), so that a mapping naming one field
    keeps the others of that default. Default: the dataclass's field defaults.
    ``exclude`` leaves out fields that are not configuration (a KMS key ARN read from another
    stack); they keep the library's default.
    """
    hints = typing.get_type_hints(value_type)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(value_type):
        if f.name in exclude:
            continue
        default = f.default if defaults is None else getattr(defaults, f.name)
        if default is dataclasses.MISSING:
            raise TypeError(f"{value_type.__name__}.{f.name}: library_value needs a default for every field")
        constraints = {key: f.metadata[key] for key in _CONSTRAINTS if key in f.metadata}
        fields[f.name] = (hints[f.name], Field(default, **constraints))
    model = create_model(value_type.__name__, __base__=Model, __module__=value_type.__module__, **fields)

    def to_value(checked: Model) -> Any:
        return value_type(**{name: getattr(checked, name) for name in fields})

    return Annotated[model, AfterValidator(to_value)]

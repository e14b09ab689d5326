"""Limits of a value type's fields, stated once, where the field is declared.

A frozen dataclass of the library declares a bounded field as
``iops: int = bounded(3000, ge=3000, le=16000)`` and calls :func:`check_limits` from its
``__post_init__``. The configuration model builds its fields from the same dataclass
(``sophia_config.types.library_value``), so the default and the limits are written
once and hold for a construct's caller and for a configuration file alike.

The metadata keys are the names pydantic's ``Field`` takes (``ge``, ``le``), which is
all the configuration model needs to know; the library itself imports no pydantic.
"""

from __future__ import annotations

from dataclasses import field, fields
from typing import Any

from constructs_lib.errors import ValidationError


def bounded(default: int, *, ge: int, le: int | None = None) -> Any:
    """A dataclass field with ``default`` and the inclusive limits ``ge``..``le`` (``le`` None: no upper limit)."""
    if default < ge or (le is not None and default > le):
        raise ValueError(f"default {default} outside its own limits {_limits(ge, le)}")
    return field(default=default, metadata={"ge": ge} if le is None else {"ge": ge, "le": le})


def check_limits(value: Any) -> None:
    """Raise :class:`ValidationError` for the first field of the dataclass instance ``value``
    outside its :func:`bounded` limits, naming the type, the field, the limits and the value."""
    for f in fields(value):
        if "ge" not in f.metadata:
            continue
        ge, le, got = f.metadata["ge"], f.metadata.get("le"), getattr(value, f.name)
        if isinstance(got, bool) or not isinstance(got, int) or got < ge or (le is not None and got > le):
            raise ValidationError(f"{type(value).__name__}: {f.name} must be an integer {_limits(ge, le)}, got {got!r}")


def _limits(ge: int, le: int | None) -> str:
    return f">= {ge}" if le is None else f"{ge}..{le}"

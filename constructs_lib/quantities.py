"""Kubernetes resource quantities as numbers: the forms this project writes (CPU in cores
or millicores, ``"500m"``/``"2"``; memory with a binary suffix, ``"512Mi"``/``"10Gi"``), for
request/limit comparisons and capacity arithmetic, and back to text for messages; and the
check every container's requests and limits pass."""

from __future__ import annotations

import re

from constructs_lib.errors import ValidationError

CPU_PATTERN = re.compile(r"^([1-9]\d*m|\d+(\.\d+)?)$")
MEMORY_PATTERN = re.compile(r"^[1-9]\d*(Ki|Mi|Gi|Ti)$")
_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
MIB = 2**20


def cpu_millis(value: str) -> float:
    """``"500m"`` -> 500.0, ``"2"`` -> 2000.0; ``ValueError`` for another form."""
    if not CPU_PATTERN.fullmatch(value):
        raise ValueError(f"not a CPU quantity (cores or millicores), got {value!r}")
    return float(value[:-1]) if value.endswith("m") else float(value) * 1000


def memory_bytes(value: str) -> int:
    """``"10Gi"`` -> 10737418240; ``ValueError`` for another form."""
    if not MEMORY_PATTERN.fullmatch(value):
        raise ValueError(f"not a memory quantity (Ki, Mi, Gi or Ti), got {value!r}")
    return int(value[:-2]) * _UNITS[value[-2:]]


def format_cpu(millis: float) -> str:
    """2000 -> ``"2"``, 3920 -> ``"3920m"``."""
    return f"{int(millis // 1000)}" if millis % 1000 == 0 else f"{int(millis)}m"


def format_memory(size: int) -> str:
    """Whole GiB as ``"10Gi"``, otherwise whole MiB (rounded down) as ``"15710Mi"``."""
    return f"{size // 2**30}Gi" if size % 2**30 == 0 else f"{size // MIB}Mi"


def check_requests_and_limits(where: str, *, cpu_request: str, cpu_limit: str, memory_request: str, memory_limit: str) -> None:
    """Raise a ``ValidationError`` naming the field unless all four are quantities of the forms
    above and neither limit is below its request."""
    given = {"cpu_request": cpu_request, "cpu_limit": cpu_limit, "memory_request": memory_request, "memory_limit": memory_limit}
    for name, value in given.items():
        if not (CPU_PATTERN if name.startswith("cpu") else MEMORY_PATTERN).fullmatch(value):
            raise ValidationError(f"{where}: {name} is not a Kubernetes quantity, got {value!r}")
    if cpu_millis(cpu_limit) < cpu_millis(cpu_request):
        raise ValidationError(f"{where}: cpu_limit {cpu_limit!r} must be >= cpu_request {cpu_request!r}")
    if memory_bytes(memory_limit) < memory_bytes(memory_request):
        raise ValidationError(f"{where}: memory_limit {memory_limit!r} must be >= memory_request {memory_request!r}")

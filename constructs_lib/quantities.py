"""Kubernetes resource quantities as numbers: the forms this project writes (CPU in cores
or millicores, ``"500m"``/``"2"``; memory with a binary suffix, ``"512Mi"``/``"10Gi"``), for
request/limit comparisons and capacity arithmetic, and back to text for messages."""

from __future__ import annotations

import re

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

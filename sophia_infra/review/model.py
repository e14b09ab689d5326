"""The review's data: attribute changes, resource changes, stack reviews, risks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AttributeChange:
    path: str
    old: Any
    new: Any
    kind: str  # "changed" | "added" | "removed"
    forces_replacement: bool = False
    ignored: bool = False
    """Listed in the resource's ``lifecycle.ignore_changes``: Terraform keeps the deployed value."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "forces_replacement": self.forces_replacement,
            "ignored": self.ignored,
        }


@dataclass(frozen=True)
class Risk:
    category: str
    stack: str
    address: str
    reason: str
    expected_by: str | None = None
    """The documented procedure step this change is (e.g. the blue/green switch's retire
    step). The risk is still a risk: the reviewer checks that this is the step they meant."""


@dataclass
class ResourceChange:
    address: str
    action: str  # "add" | "import" | "change" | "replace" | "remove"
    construct_path: str
    changes: list[AttributeChange] = field(default_factory=list)
    import_id: str | None = None

    @property
    def type(self) -> str:
        parts = self.address.split(".")
        return parts[1] if parts[0] == "data" else parts[0]

    @property
    def is_data(self) -> bool:
        return self.address.startswith("data.")


@dataclass
class StackReview:
    name: str
    status: str  # "added" | "removed" | "changed" | "unchanged"
    resources: list[ResourceChange] = field(default_factory=list)
    outputs: list[AttributeChange] = field(default_factory=list)
    settings: list[AttributeChange] = field(default_factory=list)
    """Backend, required providers and provider configuration."""

    def count(self, action: str, data: bool = False) -> int:
        return sum(1 for r in self.resources if r.action == action and r.is_data == data)

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"


@dataclass
class Review:
    stacks: list[StackReview]
    risks: list[Risk]
    graph: dict[str, tuple[str, ...]]
    removed_stacks: list[str]
    waves: list[list[str]]
    destroy_waves: list[list[str]]

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.stacks)

    @property
    def changed_stacks(self) -> list[str]:
        return [s.name for s in self.stacks if s.changed]

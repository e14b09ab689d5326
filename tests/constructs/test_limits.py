"""limits: one statement of a field's default and limits, checked by the value and read by the config."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from constructs_lib.errors import ValidationError
from constructs_lib.limits import bounded, check_limits


@dataclass(frozen=True)
class Sample:
    count: int = bounded(2, ge=1, le=5)
    name: str = "x"

    def __post_init__(self) -> None:
        check_limits(self)


def test_values_inside_the_limits_pass_and_the_limits_are_field_metadata():
    assert Sample(1).count == 1 and Sample(5).count == 5
    (count, _) = Sample.__dataclass_fields__.values()
    assert dict(count.metadata) == {"ge": 1, "le": 5}


@pytest.mark.parametrize("value", [0, 6, 2.5, "3", False])
def test_a_value_outside_names_type_field_limits_and_value(value):
    with pytest.raises(ValidationError, match=f"Sample: count must be an integer 1..5, got {value!r}"):
        Sample(value)


def test_a_default_outside_its_own_limits_is_a_programming_error():
    with pytest.raises(ValueError, match="default 0 outside its own limits 1..5"):
        bounded(0, ge=1, le=5)

"""check_requests_and_limits: the one check of a container's requests and limits (ModelDeployment, ClusterAutoscaler)."""

from __future__ import annotations

import pytest

from constructs_lib.errors import ValidationError
from constructs_lib.quantities import check_requests_and_limits

VALID = {"cpu_request": "500m", "cpu_limit": "2", "memory_request": "512Mi", "memory_limit": "1Gi"}


def test_valid_requests_and_limits_pass():
    check_requests_and_limits("X x", **VALID)
    check_requests_and_limits("X x", **{**VALID, "cpu_limit": "500m", "memory_limit": "512Mi"})  # equal is fine


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"cpu_request": "half"}, "X x: cpu_request is not a Kubernetes quantity, got 'half'"),
        ({"memory_limit": "1G"}, "X x: memory_limit is not a Kubernetes quantity, got '1G'"),
        ({"memory_request": "500m"}, "X x: memory_request is not a Kubernetes quantity"),
        ({"cpu_limit": "250m"}, "X x: cpu_limit '250m' must be >= cpu_request '500m'"),
        ({"memory_limit": "256Mi"}, "X x: memory_limit '256Mi' must be >= memory_request '512Mi'"),
    ],
)
def test_each_problem_names_the_field_and_the_value(overrides, message):
    with pytest.raises(ValidationError, match=message):
        check_requests_and_limits("X x", **{**VALID, **overrides})

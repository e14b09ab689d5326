"""DbParameterGroup: TLS is forced and cannot be switched off; static parameters wait for a reboot."""

from __future__ import annotations

import pytest

from constructs_lib.data.db_parameter_group import DbParameterGroup, DbParameterGroupProps
from constructs_lib.errors import ValidationError
from tests.constructs.support import synth


def build(**values) -> dict:
    props = DbParameterGroupProps(**{"name": "sophia-data-pg16-dev", "family": "postgres16", **values})
    return synth(lambda stack: DbParameterGroup(stack, "pg", props))


def parameters(out: dict) -> dict[str, dict]:
    (group,) = out["resource"]["aws_db_parameter_group"].values()
    return {p["name"]: p for p in group["parameter"]}


def test_tls_is_forced_and_connections_are_logged():
    found = parameters(build())
    assert found["rds.force_ssl"]["value"] == "1"
    assert found["log_connections"]["value"] == "1" and found["log_disconnections"]["value"] == "1"


def test_tls_cannot_be_turned_off():
    with pytest.raises(ValidationError, match="DbParameterGroup pg: parameters\\['rds.force_ssl'\\] must be '1', got '0'"):
        build(parameters={"rds.force_ssl": "0"})


def test_static_parameters_apply_at_the_next_reboot_and_dynamic_ones_now():
    found = parameters(build(parameters={"rds.logical_replication": "1", "work_mem": "65536"}))
    assert found["rds.logical_replication"]["apply_method"] == "pending-reboot"
    assert found["work_mem"]["apply_method"] == "immediate"


def test_a_replacement_group_exists_before_the_old_one_goes():
    (group,) = build()["resource"]["aws_db_parameter_group"].values()
    assert group["lifecycle"] == {"create_before_destroy": True}
    assert group["family"] == "postgres16"


@pytest.mark.parametrize(
    "values, message",
    [
        ({"family": "mysql8.0"}, "family must be 'postgres<major>', got 'mysql8.0'"),
        ({"name": "Sophia_PG"}, "name must be lowercase letters, digits and single '-', starting with a letter, got 'Sophia_PG'"),
        ({"name": "sophia--pg"}, "name must be .* got 'sophia--pg'"),
    ],
)
def test_bad_props_are_refused_with_the_value(values, message):
    with pytest.raises(ValidationError, match=f"DbParameterGroup pg: {message}"):
        build(**values)

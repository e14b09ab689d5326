"""PostgresInstance on its own: encrypted, private, TLS-only, observable, no password anywhere."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from constructs_lib.data.postgres_instance import PostgresInstance
from constructs_lib.data.postgres_instance_props import PostgresInstanceProps, PostgresSettings
from constructs_lib.errors import ValidationError
from tests.constructs.support import synth

DATA_KEY = "arn:aws:kms:us-west-2:111111111111:key/data"
SECRETS_KEY = "arn:aws:kms:us-west-2:111111111111:key/secrets"
LOGS_KEY = "arn:aws:kms:us-west-2:111111111111:key/logs"
SETTINGS = PostgresSettings(engine_version="16", instance_class="db.t4g.medium", allocated_storage_gb=20, max_allocated_storage_gb=50)
PROPS = PostgresInstanceProps(
    identifier="sophia-data-postgres-dev-blue",
    settings=SETTINGS,
    subnet_group_name="sophia-data-db-subnets-dev",
    security_group_ids=("sg-data",),
    parameter_group_name="sophia-data-pg16-dev",
    storage_kms_key_arn=DATA_KEY,
    secret_kms_key_arn=SECRETS_KEY,
    log_kms_key_arn=LOGS_KEY,
    monitoring_role_arn="arn:aws:iam::111111111111:role/rds-monitoring",
    deletion_protection=True,
)


def build(props: PostgresInstanceProps = PROPS) -> dict:
    return synth(lambda stack: PostgresInstance(stack, "db", props))


def instance(out: dict) -> dict:
    (found,) = out["resource"]["aws_db_instance"].values()
    return found


@pytest.fixture(scope="module")
def out() -> dict:
    return build()


def test_storage_and_performance_insights_use_the_data_key_and_nothing_is_public(out):
    db = instance(out)
    assert db["storage_encrypted"] is True and db["kms_key_id"] == DATA_KEY
    assert db["performance_insights_enabled"] is True and db["performance_insights_kms_key_id"] == DATA_KEY
    assert db["publicly_accessible"] is False
    assert db["iam_database_authentication_enabled"] is True
    assert db["ca_cert_identifier"] == "rds-ca-rsa2048-g1"
    assert db["parameter_group_name"] == "sophia-data-pg16-dev"


def test_deletion_keeps_a_final_snapshot_and_the_backups(out):
    db = instance(out)
    assert db["deletion_protection"] is True
    assert db["skip_final_snapshot"] is False and db["final_snapshot_identifier"] == "sophia-data-postgres-dev-blue-final"
    assert db["delete_automated_backups"] is False and db["copy_tags_to_snapshot"] is True
    assert instance(build(replace(PROPS, deletion_protection=False)))["deletion_protection"] is False


def test_rds_manages_the_password_with_the_secrets_key_and_none_is_written(out):
    db = instance(out)
    assert db["manage_master_user_password"] is True and db["master_user_secret_kms_key_id"] == SECRETS_KEY
    assert "password" not in db and "password_wo" not in db


def test_an_external_secret_is_read_write_only_never_into_state():
    out = build(replace(PROPS, settings=replace(SETTINGS, master_password_secret_id="sophia/dev/db")))
    db = instance(out)
    assert "manage_master_user_password" not in db and "password" not in db
    assert db["password_wo"].startswith("${jsondecode(ephemeral.aws_secretsmanager_secret_version.")
    assert "aws_secretsmanager_secret_version" not in out.get("data", {})
    assert "sophia/dev/db" not in json.dumps(out["resource"])


def test_each_exported_log_has_an_encrypted_group_created_first(out):
    groups = out["resource"]["aws_cloudwatch_log_group"]
    assert {g["name"] for g in groups.values()} == {
        "/aws/rds/instance/sophia-data-postgres-dev-blue/postgresql",
        "/aws/rds/instance/sophia-data-postgres-dev-blue/upgrade",
    }
    assert {g["kms_key_id"] for g in groups.values()} == {LOGS_KEY}
    assert sorted(instance(out)["depends_on"]) == sorted(f"aws_cloudwatch_log_group.{key}" for key in groups)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"performance_insights_retention_days": 60}, "performance_insights_retention_days must be 7 or a multiple of 31 up to 731, got 60"),
        ({"monitoring_interval_seconds": 2}, "monitoring_interval_seconds must be one of (1, 5, 10, 15, 30, 60), got 2"),
        ({"master_username": "postgres"}, "master_username must be lowercase letters, digits and '_' and not reserved by RDS, got 'postgres'"),
        ({"port": 80}, "port must be 1150..65535 (RDS limit), got 80"),
        ({"allocated_storage_gb": 70000, "max_allocated_storage_gb": 70000}, "allocated_storage_gb must be 20..65536, got 70000"),
        ({"blue_green_update": True}, "blue_green_update needs master_password_secret_id"),
        ({"log_exports": ("audit",)}, "log_exports entries must be one of ('postgresql', 'upgrade', 'iam-db-auth-error'), got 'audit'"),
    ],
)
def test_settings_rds_would_refuse_are_refused_with_the_value(settings, message):
    with pytest.raises(ValidationError) as error:
        build(replace(PROPS, settings=replace(SETTINGS, **settings)))
    assert str(error.value).startswith("PostgresInstance db: ") and message in str(error.value)


@pytest.mark.parametrize(
    "props, message",
    [
        ({"security_group_ids": ()}, "security_group_ids must name at least one group, got ()"),
        ({"storage_kms_key_arn": "alias/data"}, "storage_kms_key_arn must be a KMS key ARN, got 'alias/data'"),
    ],
)
def test_bad_props_are_refused_with_the_value(props, message):
    with pytest.raises(ValidationError) as error:
        build(replace(PROPS, **props))
    assert message in str(error.value)

"""Blue/green PostgreSQL (BlueGreenDatabase, PostgresInstance, DbParameterGroup), literal ids, no other stack.

``blue_active`` is the pair during a switch (both colours exist), so that the invariants
of every instance are checked on both; ``steady`` is the pair outside a switch.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

from constructs_lib.data.blue_green_database import BlueGreenDatabase
from constructs_lib.data.blue_green_database_props import BlueGreenDatabaseProps
from constructs_lib.data.postgres_instance_props import PostgresSettings
from constructs_lib.errors import ValidationError

DATA_KEY = "arn:aws:kms:us-west-2:111111111111:key/data"
SECRETS_KEY = "arn:aws:kms:us-west-2:111111111111:key/secrets"
LOGS_KEY = "arn:aws:kms:us-west-2:111111111111:key/logs"

SETTINGS = PostgresSettings(
    engine_version="16",
    instance_class="db.r6g.large",
    allocated_storage_gb=100,
    max_allocated_storage_gb=200,
    multi_az=True,
    backup_retention_days=7,
    performance_insights_retention_days=93,
    monitoring_interval_seconds=30,
    log_retention_days=90,
    blue_green_update=True,
    master_password_secret_id="sophia/dev/database/master",
)
RDS_MANAGED = dataclasses.replace(SETTINGS, blue_green_update=False, master_password_secret_id=None)


def props(**changes) -> BlueGreenDatabaseProps:
    base = BlueGreenDatabaseProps(
        identifiers={"blue": "sophia-data-postgres-dev-blue", "green": "sophia-data-postgres-dev-green"},
        active="blue",
        settings=SETTINGS,
        subnet_ids=("subnet-a", "subnet-b"),
        security_group_ids=("sg-0aaaaaaaaaaaaaaaa",),
        storage_kms_key_arn=DATA_KEY,
        secret_kms_key_arn=SECRETS_KEY,
        log_kms_key_arn=LOGS_KEY,
        subnet_group_name="sophia-data-db-subnets-dev",
        parameter_group_name="sophia-data-pg16-dev",
        monitoring_role_name="sophia-data-rds-monitoring-dev",
        parameters={"rds.logical_replication": "1"},
    )
    return dataclasses.replace(base, **changes)


def synth_database(p: BlueGreenDatabaseProps) -> dict:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    BlueGreenDatabase(stack, "db", p)
    return json.loads(CdktfTesting.synth(stack))


def by_identifier(out: dict) -> dict[str, dict]:
    return {i["identifier"]: i for i in out["resource"]["aws_db_instance"].values()}


@pytest.fixture(scope="module")
def blue_active() -> dict:
    return synth_database(props(standby_provisioned=True))


@pytest.fixture(scope="module")
def steady() -> dict:
    return synth_database(props())


def test_outside_a_switch_only_the_active_instance_exists(steady):
    [instance] = by_identifier(steady).values()
    assert instance["identifier"] == "sophia-data-postgres-dev-blue"
    assert instance["deletion_protection"] is True and instance["tags"] == {"BlueGreenRole": "active"}
    assert "snapshot_identifier" not in instance
    assert "aws_db_snapshot" not in steady.get("data", {})
    assert len(steady["resource"]["aws_cloudwatch_log_group"]) == 2  # the active instance's exports only


def test_during_a_switch_both_colours_exist(blue_active):
    assert sorted(by_identifier(blue_active)) == ["sophia-data-postgres-dev-blue", "sophia-data-postgres-dev-green"]


@pytest.mark.parametrize("active", ["blue", "green"])
def test_only_the_active_database_is_deletion_protected(active):
    instances = by_identifier(synth_database(props(active=active, standby_provisioned=True)))
    inactive = "green" if active == "blue" else "blue"
    assert instances[f"sophia-data-postgres-dev-{active}"]["deletion_protection"] is True
    assert instances[f"sophia-data-postgres-dev-{inactive}"]["deletion_protection"] is False
    assert instances[f"sophia-data-postgres-dev-{active}"]["tags"] == {"BlueGreenRole": "active"}
    assert instances[f"sophia-data-postgres-dev-{inactive}"]["tags"] == {"BlueGreenRole": "standby"}


def test_active_outputs_follow_configuration():
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    db = BlueGreenDatabase(stack, "db", props(active="green", standby_provisioned=True))
    assert db.active == "green" and db.standby == "blue"
    assert db.active_database_identifier == db.instances["green"].identifier
    assert db.active_database_endpoint == db.instances["green"].endpoint
    assert db.active_database_endpoint != db.instances["blue"].endpoint
    assert set(db.database_identifiers) == {"blue", "green"}
    alone = BlueGreenDatabase(TerraformStack(app, "alone"), "db", props(active="green"))
    assert set(alone.database_identifiers) == {"green"} and alone.standby_source is None


def test_standby_starts_from_the_latest_snapshot_of_the_active_instance(blue_active):
    [lookup_id] = blue_active["data"]["aws_db_snapshot"]
    lookup = blue_active["data"]["aws_db_snapshot"][lookup_id]
    # The identifier as written, not a reference: the lookup runs at plan time, before any apply.
    assert lookup["db_instance_identifier"] == "sophia-data-postgres-dev-blue"
    assert lookup["most_recent"] is True and "db_snapshot_identifier" not in lookup
    conditions = [c["condition"] for c in lookup["lifecycle"]["postcondition"]]
    assert conditions == ['${self.status == "available"}', '${self.engine == "postgres"}']
    instances = by_identifier(blue_active)
    assert instances["sophia-data-postgres-dev-green"]["snapshot_identifier"] == f"${{data.aws_db_snapshot.{lookup_id}.id}}"
    assert "snapshot_identifier" not in instances["sophia-data-postgres-dev-blue"]


def test_standby_from_a_named_snapshot():
    out = synth_database(props(standby_provisioned=True, standby_snapshot_identifier="blue-before-switch-1"))
    [lookup] = out["data"]["aws_db_snapshot"].values()
    assert lookup["db_snapshot_identifier"] == "blue-before-switch-1"
    assert "db_instance_identifier" not in lookup and "most_recent" not in lookup


def test_snapshot_and_final_snapshot_name_are_read_at_creation_only(blue_active):
    # snapshot_identifier forces a new instance: a lookup that finds a newer snapshot (or a
    # flip that moves the lookup to the other colour) must never replace a live database.
    for instance in by_identifier(blue_active).values():
        assert instance["lifecycle"]["ignore_changes"] == ["snapshot_identifier", "final_snapshot_identifier"]


def test_a_restored_instance_names_its_final_snapshot_after_its_source(blue_active):
    # A colour is retired at every other switch: a fixed name would meet the final snapshot
    # of its previous life, and RDS refuses a snapshot name that exists.
    [lookup_id] = blue_active["data"]["aws_db_snapshot"]
    instances = by_identifier(blue_active)
    assert instances["sophia-data-postgres-dev-blue"]["final_snapshot_identifier"] == "sophia-data-postgres-dev-blue-final"
    assert instances["sophia-data-postgres-dev-green"]["final_snapshot_identifier"] == (
        f"sophia-data-postgres-dev-green-final-${{substr(sha256(data.aws_db_snapshot.{lookup_id}.id), 0, 12)}}"
    )


def test_both_encrypted_private_and_durable(blue_active):
    for instance in by_identifier(blue_active).values():
        assert instance["storage_encrypted"] is True
        assert instance["kms_key_id"] == DATA_KEY
        assert instance["publicly_accessible"] is False
        assert instance["multi_az"] is True
        assert instance["backup_retention_period"] == 7
        assert instance["skip_final_snapshot"] is False
        assert instance["final_snapshot_identifier"].startswith(f"{instance['identifier']}-final")
        assert instance["copy_tags_to_snapshot"] is True
        assert instance["iam_database_authentication_enabled"] is True
        assert instance["allow_major_version_upgrade"] is False
        assert instance["ca_cert_identifier"] == "rds-ca-rsa2048-g1"
        assert instance["db_subnet_group_name"].startswith("${aws_db_subnet_group.")
        assert instance["parameter_group_name"].startswith("${aws_db_parameter_group.")


def test_master_password_is_managed_by_rds_in_secrets_manager():
    out = synth_database(props(settings=RDS_MANAGED, parameters=None))
    for instance in by_identifier(out).values():
        assert instance["manage_master_user_password"] is True
        assert instance["master_user_secret_kms_key_id"] == SECRETS_KEY
        assert not {"password", "password_wo"} & set(instance)
    assert "ephemeral" not in out


def test_blue_green_update_reads_the_password_write_only_from_secrets_manager(blue_active):
    """RDS Blue/Green Deployments refuse RDS-managed passwords: the value goes from an
    ephemeral read into the write-only argument, so neither plan nor state holds it."""
    ephemeral = blue_active["ephemeral"]["aws_secretsmanager_secret_version"]
    assert sorted(ephemeral) == [
        "sophia_data_postgres_dev_blue_master_password",
        "sophia_data_postgres_dev_green_master_password",
    ]
    for name, instance in by_identifier(blue_active).items():
        assert "manage_master_user_password" not in instance and "password" not in instance
        reference = f"ephemeral.aws_secretsmanager_secret_version.{name.replace('-', '_')}_master_password"
        assert instance["password_wo"] == f'${{jsondecode({reference}.secret_string)["password"]}}'
        assert instance["password_wo_version"] == 1
        assert ephemeral[f"{name.replace('-', '_')}_master_password"]["secret_id"].startswith(
            "${data.aws_secretsmanager_secret."
        )
    # Looked up by name: metadata only, never a secret_version data source (which would store the value).
    assert {s["name"] for s in blue_active["data"]["aws_secretsmanager_secret"].values()} == {
        "sophia/dev/database/master"
    }
    assert "aws_secretsmanager_secret_version" not in blue_active["data"]


def test_secret_referenced_by_arn():
    arn = "arn:aws:secretsmanager:us-west-2:111111111111:secret:sophia/dev/database/master-AbCdEf"
    out = synth_database(
        props(settings=dataclasses.replace(SETTINGS, master_password_secret_id=arn, master_password_version=3))
    )
    assert {s["arn"] for s in out["data"]["aws_secretsmanager_secret"].values()} == {arn}
    assert {i["password_wo_version"] for i in out["resource"]["aws_db_instance"].values()} == {3}


def test_observability(blue_active):
    for instance in by_identifier(blue_active).values():
        assert instance["performance_insights_enabled"] is True
        assert instance["performance_insights_kms_key_id"] == DATA_KEY
        assert instance["performance_insights_retention_period"] == 93
        assert instance["monitoring_interval"] == 30
        assert "aws_iam_role" in instance["monitoring_role_arn"]
        assert instance["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
        # The exported logs' groups exist first, encrypted and bounded.
        assert all("aws_cloudwatch_log_group" in dep for dep in instance["depends_on"])
    groups = blue_active["resource"]["aws_cloudwatch_log_group"].values()
    assert sorted(g["name"] for g in groups) == sorted(
        f"/aws/rds/instance/sophia-data-postgres-dev-{c}/{log}"
        for c in ("blue", "green")
        for log in ("postgresql", "upgrade")
    )
    assert all(g["kms_key_id"] == LOGS_KEY and g["retention_in_days"] == 90 for g in groups)


def test_monitoring_role_trust_and_policy(blue_active):
    role = next(iter(blue_active["resource"]["aws_iam_role"].values()))
    assert role["name"] == "sophia-data-rds-monitoring-dev"
    trust = next(d for n, d in blue_active["data"]["aws_iam_policy_document"].items() if "trust" in n)
    statement = trust["statement"][0]
    assert statement["principals"] == [{"type": "Service", "identifiers": ["monitoring.rds.amazonaws.com"]}]
    assert statement["condition"][0]["variable"] == "aws:SourceAccount"
    attachment = next(iter(blue_active["resource"]["aws_iam_role_policy_attachment"].values()))
    assert attachment["policy_arn"].endswith(":iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")


def test_subnet_group_over_the_isolated_subnets(blue_active):
    group = next(iter(blue_active["resource"]["aws_db_subnet_group"].values()))
    assert group["subnet_ids"] == ["subnet-a", "subnet-b"]


def test_parameter_group_forces_tls_and_enables_logical_replication(blue_active):
    group = next(iter(blue_active["resource"]["aws_db_parameter_group"].values()))
    assert group["family"] == "postgres16"
    params = {p["name"]: p for p in group["parameter"]}
    assert params["rds.force_ssl"]["value"] == "1"
    assert params["rds.logical_replication"] == {
        "name": "rds.logical_replication",
        "value": "1",
        "apply_method": "pending-reboot",
    }
    assert params["log_connections"]["value"] == "1"
    assert group["lifecycle"] == {"create_before_destroy": True}


def test_native_blue_green_update_is_a_configuration_choice(blue_active):
    for instance in by_identifier(blue_active).values():
        assert instance["blue_green_update"] == {"enabled": True}
    off = synth_database(props(settings=RDS_MANAGED, parameters=None))
    for instance in by_identifier(off).values():
        assert "blue_green_update" not in instance


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"active": "red"}, "active must be 'blue' or 'green', got 'red'"),
        (
            {"standby_snapshot_identifier": "blue-before-switch"},
            "standby_snapshot_identifier is read only with standby_provisioned, got 'blue-before-switch' without it",
        ),
        ({"subnet_ids": ("subnet-a",)}, "at least two subnets (one per AZ), got 1"),
        ({"identifiers": {"blue": "x-db"}}, "exactly the keys 'blue' and 'green'"),
        ({"identifiers": {"blue": "same-db", "green": "same-db"}}, "identifiers must differ"),
        ({"parameters": None}, "parameters['rds.logical_replication'] = '1' for PostgreSQL, got None"),
        (
            {"settings": dataclasses.replace(SETTINGS, backup_retention_days=0)},
            "blue_green_update needs automated backups: backup_retention_days must be >= 1, got 0",
        ),
        ({"parameters": {"rds.force_ssl": "0"}}, "parameters['rds.force_ssl'] must be '1', got '0'"),
        (
            {"settings": dataclasses.replace(SETTINGS, monitoring_interval_seconds=0)},
            "monitoring_interval_seconds must be one of",
        ),
        ({"settings": dataclasses.replace(SETTINGS, performance_insights_retention_days=30)}, "got 30"),
        ({"settings": dataclasses.replace(SETTINGS, master_username="postgres")}, "master_username"),
        (
            {"settings": dataclasses.replace(SETTINGS, max_allocated_storage_gb=50)},
            "max_allocated_storage_gb must be >=",
        ),
        (
            {"settings": dataclasses.replace(SETTINGS, master_password_secret_id=None)},
            "blue_green_update needs master_password_secret_id: RDS Blue/Green Deployments do not support RDS-managed",
        ),
        ({"settings": dataclasses.replace(SETTINGS, master_password_secret_id="a b")}, "secret name or ARN, got 'a b'"),
        (
            {"settings": dataclasses.replace(SETTINGS, master_password_version=0)},
            "master_password_version must be >= 1",
        ),
        ({"storage_kms_key_arn": "alias/data"}, "storage_kms_key_arn must be a KMS key ARN, got 'alias/data'"),
        ({"settings": dataclasses.replace(SETTINGS, engine_version="latest")}, "engine_version must be '<major>'"),
    ],
)
def test_database_validation(changes, message):
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    with pytest.raises(ValidationError) as exc:
        BlueGreenDatabase(stack, "db", props(**changes))
    assert message in str(exc.value)

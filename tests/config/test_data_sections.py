"""The database, storage, drift and alerts sections: bad values are refused with file, field and value."""

from __future__ import annotations

from dataclasses import replace

import pytest

import sophia_config as config
from constructs_lib.data.postgres_instance_props import PostgresSettings
from constructs_lib.errors import ValidationError
from tests.config.test_model import rejected
from tests.config_files import edit, move_to_account
from tests.conftest import ROOT


def test_committed_values():
    app = config.load(ROOT / "config")
    prod = app.environment("production").config
    assert prod.database.blue_green_update is True
    assert prod.database.parameters["rds.logical_replication"] == "1"
    assert prod.storage.force_destroy_buckets is False
    assert all(env.config.drift.record_config for env in app.environments)


def test_blue_green_update_needs_logical_replication(config_dir):
    path = edit(config_dir, "staging.yaml", lambda d: d["database"].update(parameters={}))
    message = rejected(config_dir)
    assert str(path) in message
    assert "parameters.rds.logical_replication to '1', got None" in message


def test_blue_green_update_needs_a_password_secret(config_dir):
    edit(config_dir, "production.yaml", lambda d: d["database"].pop("master_password_secret_id"))
    assert "blue_green_update needs master_password_secret_id" in rejected(config_dir)


def test_password_secret_is_a_name_or_arn_not_a_value(config_dir):
    edit(config_dir, "production.yaml", lambda d: d["database"].update(master_password_secret_id="hunter2 hunter2"))
    assert "database.master_password_secret_id" in rejected(config_dir)


def test_blue_green_update_needs_backups(config_dir):
    edit(config_dir, "staging.yaml", lambda d: d["database"].update(backup_retention_days=0))
    assert "backup_retention_days must be >= 1, got 0" in rejected(config_dir)


def test_force_ssl_cannot_be_turned_off(config_dir):
    edit(config_dir, "dev.yaml", lambda d: d["database"].update(parameters={"rds.force_ssl": "0"}))
    assert "rds.force_ssl must stay '1'" in rejected(config_dir)


def test_storage_ceiling_below_allocation(config_dir):
    edit(config_dir, "dev.yaml", lambda d: d["database"].update(max_allocated_storage_gb=10))
    assert "max_allocated_storage_gb" in rejected(config_dir)


@pytest.mark.parametrize("days", [8, 30, 740])
def test_performance_insights_retention(config_dir, days):
    edit(config_dir, "dev.yaml", lambda d: d["database"].update(performance_insights_retention_days=days))
    assert f"got {days}" in rejected(config_dir)


def test_backup_window_overlapping_maintenance(config_dir):
    edit(config_dir, "dev.yaml", lambda d: d["database"].update(maintenance_window="sun:03:30-sun:04:30"))
    assert "overlaps maintenance_window" in rejected(config_dir)


def test_force_destroy_refused_with_deletion_protection(config_dir):
    path = edit(config_dir, "production.yaml", lambda d: d["storage"].update(force_destroy_buckets=True))
    message = rejected(config_dir)
    assert (
        f"{path}: storage.force_destroy_buckets: must be false where resilience.deletion_protection is true" in message
    )


def test_two_recorders_in_one_account_and_region(config_dir):
    def same_account(d):
        move_to_account(d, "111111111111")  # dev's account and region

    path = edit(config_dir, "staging.yaml", same_account)
    message = rejected(config_dir)
    assert str(path) in message and str(config_dir / "dev.yaml") in message
    assert "drift.record_config: true" in message and "111111111111" in message


def test_one_recorder_per_account_is_accepted(config_dir):
    def same_account_no_recorder(d):
        move_to_account(d, "111111111111")
        d["drift"].update(record_config=False, include_global_resources=False)

    edit(config_dir, "staging.yaml", same_account_no_recorder)
    assert config.load(config_dir).environment("staging").config.drift.record_config is False


def test_global_resources_twice_in_one_account(config_dir):
    def other_region(d):
        move_to_account(d, "111111111111", "us-east-1")

    edit(config_dir, "staging.yaml", other_region)
    assert "drift.include_global_resources: true" in rejected(config_dir)


def test_global_resources_without_recorder(config_dir):
    edit(config_dir, "dev.yaml", lambda d: d["drift"].update(record_config=False))
    assert "include_global_resources needs record_config" in rejected(config_dir)


@pytest.mark.parametrize(
    ("subscription", "message"),
    [
        ({"protocol": "email", "endpoint": "not-an-address"}, "must be an e-mail address"),
        ({"protocol": "https", "endpoint": "http://hooks.example.com/x"}, "must be an https:// URL"),
        ({"protocol": "https", "endpoint": "https://hooks.example.com/x?token=abc"}, "must not carry credentials"),
        ({"protocol": "https", "endpoint": "https://hooks.slack.com/services/T0/B0/abcdefSECRET"}, "whose URL is its token"),
        ({"protocol": "https", "endpoint": "https://acme.webhook.office.com/webhookb2/abcdefSECRET"}, "whose URL is its token"),
        ({"protocol": "sms", "endpoint": "+15555550100"}, "alerts.subscriptions.0.protocol"),
    ],
)
def test_alert_subscriptions(config_dir, subscription, message):
    edit(config_dir, "staging.yaml", lambda d: d["alerts"].update(subscriptions=[subscription]))
    text = rejected(config_dir)
    assert message in text
    # A refused endpoint may be a credential: the message never repeats it.
    assert "SECRET" not in text and "token=abc" not in text


def test_every_environment_reaches_someone_or_says_why_not():
    app = config.load(ROOT / "config")
    for env in app.environments:
        alerts = env.config.alerts
        assert alerts.subscriptions or alerts.slack_channels or (alerts.silent and alerts.silent_reason), env.name
    dev = app.environment("dev").config.alerts
    assert dev.silent and "on call" in dev.silent_reason


def test_alarms_that_reach_nobody_without_a_reason_are_refused(config_dir):
    path = edit(config_dir, "staging.yaml", lambda d: d["alerts"].update(subscriptions=[]))
    assert f"{path}: alerts: the environment's alarms reach nobody: add subscriptions" in rejected(config_dir)


@pytest.mark.parametrize(
    ("alerts", "message"),
    [
        ({"silent": True}, "silent: true needs silent_reason"),
        ({"silent": True, "silent_reason": "   "}, "alerts.silent_reason"),
        ({"silent_reason": "nobody is on call for this one"}, "silent_reason is read only with silent: true"),
        (
            {"silent": True, "silent_reason": "nobody is on call for this one",
             "subscriptions": [{"protocol": "email", "endpoint": "a@b.io"}]},
            "silent: true, but 1 subscriber(s) are listed",
        ),
        ({"slack_channels": [{"team_id": "T012", "channel_id": "C0456EFGH"}]}, "alerts.slack_channels.0.team_id"),
    ],
)
def test_silence_needs_a_reason_and_no_subscriber(config_dir, alerts, message):
    edit(config_dir, "dev.yaml", lambda d: d.update(alerts=alerts))
    assert message in rejected(config_dir)


@pytest.mark.parametrize(
    "field, accepted, refused",
    [
        ("performance_insights_retention_days", 62, 60),
        ("monitoring_interval_seconds", 15, 20),
        ("backup_retention_days", 35, 36),
        ("allocated_storage_gb", 20, 19),
    ],
)
def test_config_and_library_agree_on_database_limits(config_dir, field, accepted, refused):
    # The configuration checks against the library's constants: a value one accepts the
    # other accepts, a value one refuses the other refuses.
    base = PostgresSettings(engine_version="16", instance_class="db.t4g.medium", allocated_storage_gb=20, max_allocated_storage_gb=50)
    replace(base, **{field: accepted}).validate("lib")
    with pytest.raises(ValidationError, match=f"lib: {field} must be"):
        replace(base, **{field: refused}).validate("lib")
    edit(config_dir, "dev.yaml", lambda d: d["database"].update({field: accepted}))
    config.load(config_dir)
    path = edit(config_dir, "dev.yaml", lambda d: d["database"].update({field: refused}))
    assert f"{path}: database" in rejected(config_dir)


def test_a_slack_channel_is_a_subscriber(config_dir):
    channel = {"team_id": "T0123ABCD", "channel_id": "C0456EFGH"}
    edit(config_dir, "dev.yaml", lambda d: d.update(alerts={"slack_channels": [channel]}))
    assert config.load(config_dir).environment("dev").config.alerts.slack_channels[0].channel_id == "C0456EFGH"


def test_outside_a_switch_no_environment_pays_for_a_standby():
    app = config.load(ROOT / "config")
    assert {env.name: env.config.blue_green.standby for env in app.environments} == {
        "dev": "absent",
        "production": "absent",
        "staging": "absent",
    }


def test_standby_snapshot_without_a_standby_is_refused(config_dir):
    # Left behind after a retire, it would seed the next switch from an old snapshot.
    path = edit(config_dir, "production.yaml", lambda d: d["blue_green"].update(standby_snapshot="blue-before-switch"))
    message = rejected(config_dir)
    assert f"{path}: blue_green: standby_snapshot is read only while standby is 'provisioned'" in message
    assert "got standby 'absent'" in message


def test_standby_snapshot_must_be_a_snapshot_identifier(config_dir):
    edit(
        config_dir,
        "production.yaml",
        lambda d: d["blue_green"].update(standby="provisioned", standby_snapshot="blue--before-switch-"),
    )
    assert "blue_green.standby_snapshot" in rejected(config_dir)


def test_standby_from_an_automated_snapshot_is_accepted(config_dir):
    name = "rds:sophia-data-postgres-production-blue-2025-06-01-03-05"
    edit(config_dir, "production.yaml", lambda d: d["blue_green"].update(standby="provisioned", standby_snapshot=name))
    assert config.load(config_dir).environment("production").config.blue_green.standby_snapshot == name

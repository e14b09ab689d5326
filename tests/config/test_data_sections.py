"""The database, storage, drift and alerts sections: bad values are refused with file, field and value."""

from __future__ import annotations

import pytest

import sophia_config as config
from tests.config.test_model import edit, move_to_account, rejected
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
        ({"protocol": "sms", "endpoint": "+15555550100"}, "alerts.subscriptions.0.protocol"),
    ],
)
def test_alert_subscriptions(config_dir, subscription, message):
    edit(config_dir, "dev.yaml", lambda d: d["alerts"].update(subscriptions=[subscription]))
    assert message in rejected(config_dir)

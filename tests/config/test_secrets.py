"""Secret-shaped values in the configuration are refused where they are typed, and no
error message repeats them (issue 12: a password typed as ``master_password_secret_id``,
an AWS access key id, a GitHub token and a Slack-style webhook all reached ``cdktf.out/``;
refused values were echoed into CI logs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import sophia_config as config
from tests.config.test_model import rejected
from tests.config_files import edit
from tests.conftest import ROOT, load_yaml

PASSWORD = "Xk9mQ2vL7pR4wZt8"
AWS_KEY_ID = "AKIA" + "Q3EXAMPLE7KEY2ID"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2
SLACK_WEBHOOK = "https://hooks.slack.com/services/T0AB12CDE/B0FG34HIJ/" + "q7RsTuVw8XyZ1a2B3c4D5e6F"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    return target


def set_in(path: tuple, value):
    def change(document):
        node = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("file", "field", "value", "kind", "shown"),
    [
        ("production.yaml", ("database", "master_password_secret_id"), PASSWORD, "a password or key", "[REDACTED, 16 chars]"),
        ("project.yaml", ("owner",), AWS_KEY_ID, "an AWS access key id", "AKIA…[REDACTED, 20 chars]"),
        ("dev.yaml", ("models", 0, "image"), GITHUB_TOKEN, "a GitHub token", "ghp_…[REDACTED, 44 chars]"),
        (
            "dev.yaml",
            ("alerts", "subscriptions"),
            [{"protocol": "https", "endpoint": SLACK_WEBHOOK}],
            "a webhook URL whose path is its token",
            f"https://hooks.slack.com/…[REDACTED, {len(SLACK_WEBHOOK)} chars]",
        ),
    ],
)
def test_a_secret_in_the_configuration_is_refused_and_never_repeated(config_dir, file, field, value, kind, shown):
    path = edit(config_dir, file, set_in(field, value))
    message = rejected(config_dir)
    secret = value if isinstance(value, str) else value[0]["endpoint"]
    assert secret not in message
    where = ".".join(str(p) for p in field) if isinstance(value, str) else "alerts.subscriptions[0].endpoint"
    where = where.replace(".0.", "[0].")
    assert f"{path}: {where}: looks like {kind}" in message
    assert f"(value {shown})" in message


@pytest.mark.parametrize(
    ("file", "field", "value"),
    [
        # Refused by the field's own pattern ('&' is not allowed in a secret id): the value
        # was echoed as "(value 'Tr0ub4dor&3-horse')".
        ("production.yaml", ("database", "master_password_secret_id"), "Tr0ub4dor&3-horse"),
        # Refused by the alert validator (a query string): echoed in its "got ..." text.
        ("dev.yaml", ("alerts", "subscriptions"), [{"protocol": "https", "endpoint": "https://example.com/hook?t=s3cr3t-v4lue"}]),
        ("dev.yaml", ("alerts", "subscriptions"), [{"protocol": "email", "endpoint": "ops@example.com:hunter2"}]),
    ],
)
def test_values_refused_by_validation_are_not_echoed_where_they_could_be_secrets(config_dir, file, field, value):
    edit(config_dir, file, set_in(field, value))
    message = rejected(config_dir)
    secret = value if isinstance(value, str) else value[0]["endpoint"]
    assert secret not in message and ("[REDACTED" in message or "(value redacted)" in message)


def test_other_refused_values_are_shown_but_cut(config_dir):
    edit(config_dir, "dev.yaml", set_in(("network", "vpc_cidr"), "10.10.0.0/33"))
    assert "(value '10.10.0.0/33')" in rejected(config_dir)
    edit(config_dir, "dev.yaml", set_in(("network", "vpc_cidr"), "x" * 500))
    message = rejected(config_dir)
    assert "x" * 250 not in message and "(502 chars)" in message


def test_the_committed_configuration_has_no_findings():
    from constructs_lib.security import secret_scan

    for path in sorted((ROOT / "config").glob("*.yaml")):
        assert secret_scan.scan(load_yaml(path.read_text())) == [], path
    config.load(ROOT / "config")  # and loads


def test_a_value_is_judged_by_its_nearest_field_name_not_a_list_index():
    # One rule for the scan and for the loader's messages: a secret in a list is judged by
    # the list's name (a password among `api_keys` is a secret-named value).
    from constructs_lib.security import secret_scan

    assert secret_scan.field_name(("models", "0", "image")) == "image"
    assert secret_scan.field_name(["api_keys", "1"]) == "api_keys"
    assert secret_scan.field_name(("0", "1")) == ""

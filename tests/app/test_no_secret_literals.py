"""No secret value in the synthesized output, the snapshots or the configuration files.

Credentials come from Secrets Manager (RDS-managed master passwords) and are
referenced by ARN; nothing password-like is ever a literal. The detector is the one the
synthesis and the configuration loader run (``constructs_lib.security.secret_scan``); the
first tests prove it catches what it is meant to, and passes what the project writes
(ARNs, KMS aliases, image digests, references).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.monitoring.alarm_topic_props import endpoint_problem
from constructs_lib.security.secret_scan import TOKEN_IN_URL_WEBHOOKS, scan, scan_output
from tests.conftest import ROOT, load_yaml


def find_secrets(document: object) -> list[str]:
    return [str(finding) for finding in scan(document)]


# --- the detector can fail ------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        {"resource": {"aws_db_instance": {"db": {"password": "hunter2hunter2"}}}},
        {"resource": {"aws_db_instance": {"db": {"master_password": "s3cr3t!"}}}},
        {"env": [{"name": "DB_PASSWORD", "value": "plain"}]},
        {"env": [{"name": "OPENAI_API_KEY", "value": "sk-abc"}]},
        {"provider": {"aws": [{"access_key": "AKIAABCDEFGHIJKLMNOP"}]}},
        {"locals": {"key": "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."}},
        {"endpoint": "postgres://admin:p4ss@db.example.com:5432/app"},
        {"github": {"token": "ghp_" + "a" * 36}},
        {"value": "AKIAQ3EXAMPLE7KEY2ID"},
        {"secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
        {"note": "aws_secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here"},
        {"endpoint": "https://hooks.slack.com/services/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"},
        {"endpoint": "https://example.com/notify?token=abcdef123456"},
        {"url": "https://example.com/hooks/Zq8Wn3Kp5Rt7Vx9Ym2Bc4Df6"},
        {"slack": "xoxb-1234567890-abcdefghij"},
        {"openai": "sk-proj-abcdefghijklmnopqrstuv"},
        {"dsn": "Server=db;Password=hunter2;"},
        {"database": {"master_password_secret_id": "Xk9mQ2vL7pR4wZt8"}},
        {"role_name": "sophia-Xk9mQ2vL7pR4wZt8"},
    ],
)
def test_detector_catches_planted_secrets(document):
    assert find_secrets(document)


@pytest.mark.parametrize(
    "document",
    [
        {"manage_master_user_password": True, "master_user_secret_kms_key_id": "${data.x.y}"},
        {"password": "${aws_secretsmanager_secret_version.db.secret_string}"},
        {"secret_arn": "arn:aws:secretsmanager:us-west-2:111111111111:secret:db"},
        {"env": [{"name": "DB_PASSWORD", "value_from": {"secret_key_ref": {"name": "db", "key": "password"}}}]},
        {"output": {"master_user_secret_arn": {"description": "ARN of the secret, never its value"}}},
        {"policy_arn": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"},
        {"kms_key_id": "alias/sophia/production/data"},
        {"image": "sha256:" + "0123456789abcdef" * 4},
        {"image_id": "sha256:" + "0123456789abcdef" * 4},
        {"vpc_id": "vpc-0a1b2c3d4e5f67890"},
        {"key_id": "11111111-2222-3333-4444-555555555555"},
        {"master_password_secret_id": "sophia/production/database/master"},
        {"url": "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"},
        {"endpoint": "https://hooks.example.com/alerts/sophia-production"},
        {"//": {"metadata": {"uniqueId": "data-dev_db_Xk9mQ2vL7pR4wZt8"}}},
    ],
)
def test_detector_accepts_references(document):
    assert find_secrets(document) == []


@pytest.mark.parametrize(("host", "prefix"), TOKEN_IN_URL_WEBHOOKS)
def test_each_token_in_url_webhook_is_caught_in_the_output_and_refused_as_an_alarm_endpoint(host, prefix):
    # One table for both checks: the two lists they had drifted (one knew Telegram and
    # Google Chat, the other PagerDuty).
    url = f"https://{host}{prefix.rstrip('/')}/T0AB12CDE/B0FG34HIJ/qrstuvwxyzabcdef"
    found = find_secrets({"endpoint": url})  # a token that is not random-looking: only the table can tell
    assert len(found) == 1 and "a webhook URL whose path is its token" in found[0], found
    assert "whose URL is its token" in (endpoint_problem("https", url) or "")
    assert endpoint_problem("https", f"https://status.example.com{prefix}") is None


# --- the project --------------------------------------------------------------------------------


def test_no_secret_literal_in_synthesized_output(synth_outdir: Path):
    files = sorted(synth_outdir.rglob("*.json"))
    assert any(f.name == "cdk.tf.json" for f in files)
    findings = [
        f"{f.relative_to(synth_outdir)}: {finding}"
        for f in files
        for finding in find_secrets(json.loads(f.read_text()))
    ]
    assert findings == []
    assert scan_output(synth_outdir) == []  # what synthesis itself checks before the swap


def test_database_passwords_come_from_secrets_manager(stack_json):
    """RDS-managed, or read ephemerally into the write-only argument: never ``password``,
    which Terraform would keep in the plan and the state."""
    for env in ("dev", "staging", "production"):
        stack = stack_json(f"data-{env}")
        instances = stack["resource"]["aws_db_instance"].values()
        assert instances  # the active colour (and, during a switch, the standby)
        for instance in instances:
            assert "password" not in instance
            if instance.get("manage_master_user_password") is True:
                assert instance["master_user_secret_kms_key_id"].startswith("${")
                assert "password_wo" not in instance
            else:
                assert instance["password_wo"].startswith("${jsondecode(ephemeral.aws_secretsmanager_secret_version.")
        assert "aws_secretsmanager_secret_version" not in stack.get("data", {})


def test_no_secret_literal_in_configuration_or_snapshots():
    files = sorted((ROOT / "config").glob("*.yaml"))
    snapshots = ROOT / "tests" / "app" / "__snapshots__"
    if snapshots.is_dir():
        files += sorted(p for p in snapshots.rglob("*") if p.is_file())
    findings = []
    for f in files:
        text = f.read_text()
        document = load_yaml(text) if f.suffix == ".yaml" else text
        findings += [f"{f.relative_to(ROOT)}: {finding}" for finding in find_secrets(document)]
    assert findings == []

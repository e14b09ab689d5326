"""No secret value in the synthesized output, the snapshots or the configuration files.

Credentials come from Secrets Manager (RDS-managed master passwords) and are
referenced by ARN; nothing password-like is ever a literal. The detector looks
for two things: a secret-like attribute (``password``, ``secret``, ``token``,
``api_key``, ...) or a Kubernetes-style ``{"name": "DB_PASSWORD", "value": ...}``
pair whose value is a literal string, and values shaped like known credentials
(AWS access keys, private keys, provider tokens, URLs with a password) wherever
they appear. The first tests prove the detector catches what it is meant to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|access[_-]?key|auth[_-]?key|client[_-]?secret)",
    re.IGNORECASE,
)
# Attributes whose names contain a secret-like word but hold no secret: a switch,
# a reference to where the secret lives, or a description.
NOT_A_VALUE = re.compile(
    # A "*_type" names a kind (CodeBuild's image_pull_credentials_type: CODEBUILD or SERVICE_ROLE).
    r"(^manage_master_user_password$|_(arn|arns|id|ids|name|names|kms_key_id|kms_key_arn|version|enabled|type|rotation.*)$|"
    r"^description$|^enable_|^(secret|token)_?(arn|name)$|"
    # EC2 instance metadata: "required" means IMDSv2 session tokens, not a token value.
    r"^http_tokens$)",
    re.IGNORECASE,
)
CREDENTIAL_SHAPES = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "password in a URL": re.compile(r"://[^/\s:@]+:[^/\s@]+@"),
}
REFERENCE = re.compile(r"^\$\{[^{}]*(\{[^{}]*\}[^{}]*)*\}$")


def _is_literal(value: object) -> bool:
    """A literal worth flagging: a non-empty string that is not a Terraform reference or an ARN."""
    if not isinstance(value, str) or not value.strip():
        return False
    return not (REFERENCE.fullmatch(value) or value.startswith("arn:"))


def _walk(value: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "//":
                continue  # cdktf metadata: construct paths and output ids, never values
            yield from _walk(child, path + (str(key),))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, path + (str(index),))


def find_secrets(document: object) -> list[str]:
    """Every place in ``document`` (parsed JSON/YAML) that holds a literal secret."""
    findings = []
    for path, value in _walk(document):
        where = ".".join(path) or "(root)"
        key = path[-1] if path else ""
        if SECRET_KEY.search(key) and not NOT_A_VALUE.search(key) and _is_literal(value):
            findings.append(f"{where}: secret-like attribute {key!r} has a literal value")
        if isinstance(value, dict) and isinstance(value.get("name"), str) and SECRET_KEY.search(value["name"]):
            if _is_literal(value.get("value")):
                findings.append(f"{where}: {value['name']!r} is set to a literal value")
        if isinstance(value, str):
            for label, shape in CREDENTIAL_SHAPES.items():
                if shape.search(value):
                    findings.append(f"{where}: looks like a {label}")
    return findings


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
    ],
)
def test_detector_accepts_references(document):
    assert find_secrets(document) == []


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
        document = yaml.safe_load(text) if f.suffix == ".yaml" else text
        findings += [f"{f.relative_to(ROOT)}: {finding}" for finding in find_secrets(document)]
    assert findings == []

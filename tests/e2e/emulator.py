"""The local AWS emulator (moto's server) and the test-only Terraform overrides that point at it.

Nothing here changes a committed stack: each stack is deployed from a copy of
its ``cdktf.out/stacks/<stack>/`` directory, and the emulator settings go into
``*_override.tf.json`` files written into that copy (Terraform merges override
files over the synthesized configuration).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def _state_account() -> str:
    from sophia_config import load

    return load(Path(__file__).resolve().parents[2] / "config").project.state.account_id


# The one account moto plays, for every request (its MOTO_ACCOUNT_ID): the state account.
# The backends assume a role there (state.role_arn), and moto moves a session that
# assumed a role of another account into that account, where the lock table made by
# state-bootstrap would not exist. Stacks of any environment apply there too; their
# allowed_account_ids name their real accounts, so the override names this one.
MOTO_ACCOUNT_ID = _state_account()

# Provider endpoint keys (aws provider 5.x names) sent to the emulator. Anything
# else is caught by AWS_ENDPOINT_URL, so no request can leave for real AWS.
PROVIDER_ENDPOINTS = (
    "acm", "autoscaling", "cloudtrail", "cloudwatch", "configservice", "dynamodb", "ec2", "ecr",
    "eks", "elasticache", "elbv2", "events", "iam", "kms", "lambda", "logs", "opensearch", "rds",
    "route53", "s3", "secretsmanager", "sns", "sqs", "ssm", "sts",
)  # fmt: skip

BACKEND_ENDPOINTS = ("s3", "dynamodb", "sts")

# The emulator accepts any credentials; fixed ones keep a developer's real
# profile (and account) out of the test.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "moto", "AWS_SECRET_ACCESS_KEY": "moto"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """``moto_server`` on 127.0.0.1 and a free port; a context manager that always stops it."""

    def __init__(self, executable: str, log_path: Path):
        self.executable = executable
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> MotoServer:
        env = dict(os.environ)
        # Without it every attachment of an AWS-managed policy (arn:aws:iam::aws:policy/...) fails.
        env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        env["MOTO_ACCOUNT_ID"] = MOTO_ACCOUNT_ID
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [self.executable, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited {self.process.returncode}; see {self.log_path}")
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2).close()
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError(f"moto_server did not answer on {self.url} within 60 s; see {self.log_path}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    # --- Reading the emulator's state without an AWS SDK --------------------------------
    # moto does not check signatures; the Authorization header only tells its
    # single-port server which service and region a request is for.

    def _request(self, service: str, region: str, path: str, body: bytes | None = None, headers=None):
        auth = (
            f"AWS4-HMAC-SHA256 Credential=moto/20260101/{region}/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0"
        )
        request = urllib.request.Request(
            f"{self.url}{path}", data=body, headers={"Authorization": auth, **(headers or {})}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def s3_get(self, region: str, bucket: str, key: str) -> bytes | None:
        try:
            return self._request("s3", region, f"/{bucket}/{key}")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def dynamodb_items(self, region: str, table: str) -> list[dict]:
        body = self._request(
            "dynamodb",
            region,
            "/",
            json.dumps({"TableName": table}).encode(),
            {"X-Amz-Target": "DynamoDB_20120810.Scan", "Content-Type": "application/x-amz-json-1.0"},
        )
        return json.loads(body)["Items"]


def stage_stack(stack_dir: Path, work: Path) -> Path:
    """A fresh copy of a synthesized stack directory to deploy from."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(stack_dir, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    return work


def _s3_emulator_settings(url: str) -> dict:
    return {
        "endpoints": {name: url for name in BACKEND_ENDPOINTS},
        "use_path_style": True,
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": True,
        "skip_region_validation": True,
    }


def write_emulator_overrides(work: Path, url: str) -> list[Path]:
    """Point the stack copy's provider, S3 backend and remote-state reads at the emulator."""
    config = json.loads((work / "cdk.tf.json").read_text())
    written = []

    provider = {
        "aws": {
            "endpoints": [{name: url for name in PROVIDER_ENDPOINTS}],
            "s3_use_path_style": True,
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
            # The stacks allow only the real account; the emulator is another one.
            "allowed_account_ids": [MOTO_ACCOUNT_ID],
        }
    }
    written.append(_write(work / "emulator_provider_override.tf.json", {"provider": provider}))

    backend = config.get("terraform", {}).get("backend", {})
    if "s3" in backend:
        # A backend block in an override file replaces the original one whole.
        s3 = {**backend["s3"], **_s3_emulator_settings(url)}
        written.append(_write(work / "emulator_backend_override.tf.json", {"terraform": {"backend": {"s3": s3}}}))

    remote_states = config.get("data", {}).get("terraform_remote_state", {})
    overrides = {
        name: {"config": {**spec["config"], **_s3_emulator_settings(url)}}
        for name, spec in remote_states.items()
        if spec.get("backend") == "s3"
    }
    if overrides:
        written.append(
            _write(work / "emulator_remote_state_override.tf.json", {"data": {"terraform_remote_state": overrides}})
        )
    return written


# Attributes moto 5.2.5 does not store and reads back as a default, so every
# plan shows a change that real AWS would not. Ignored in the emulator copy only.
MOTO_UNSTORED_ATTRIBUTES = {
    "aws_kms_key": ("rotation_period_in_days",),  # read back as 0
    "aws_db_instance": (  # Performance Insights is dropped
        "performance_insights_enabled",
        "performance_insights_kms_key_id",
        "performance_insights_retention_period",
    ),
    "aws_db_parameter_group": ("parameter",),  # the parameters' Source is lost
    "aws_rds_cluster_parameter_group": ("parameter",),
}


def write_moto_drift_override(work: Path) -> Path | None:
    """``ignore_changes`` for :data:`MOTO_UNSTORED_ATTRIBUTES` on every such resource of the copy."""
    resources = json.loads((work / "cdk.tf.json").read_text()).get("resource", {})
    override = {
        rtype: {
            # An override's ignore_changes replaces the original list: keep what the stack ignores.
            name: {"lifecycle": {"ignore_changes": [*spec.get("lifecycle", {}).get("ignore_changes", []), *attributes]}}
            for name, spec in resources[rtype].items()
        }
        for rtype, attributes in MOTO_UNSTORED_ATTRIBUTES.items()
        if rtype in resources
    }
    return _write(work / "emulator_drift_override.tf.json", {"resource": override}) if override else None


def write_json_override(work: Path, name: str, content: dict) -> Path:
    """An extra test-only override (e.g. shorter timeouts for a resource moto is slow to fake)."""
    return _write(work / f"{name}_override.tf.json", content)


def _write(path: Path, content: dict) -> Path:
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")
    return path

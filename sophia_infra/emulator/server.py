"""moto's server on 127.0.0.1: started in its own process group, recorded in a state file,
stopped with everything it (or a deployment) started.

Every process an emulator run starts carries :data:`RUN_MARKER` in its environment.
Terraform runs under a pseudo-terminal that the cdktf CLI opens in a new session,
so a process group alone does not hold every descendant; the marker does, because
environments are inherited. :func:`sweep` ends whatever still carries the run's
marker (read from ``/proc``; elsewhere only the process groups are signalled).

Only the standard library is used: the commands and the e2e tests read the
emulator's state without an AWS SDK.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

from sophia_infra import tools

RUN_MARKER = "SOPHIA_EMULATOR_RUN"

# Without it every attachment of an AWS-managed policy (arn:aws:iam::aws:policy/...) fails.
MOTO_ENV = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}


class EmulatorError(Exception):
    """The emulator cannot be started or reached; ``str()`` says what to do."""


def without_aws_settings(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` without the caller's AWS settings: every ``AWS_*`` variable dropped, ``~/.aws`` hidden.

    A developer's profile, region, credentials or endpoint must reach neither moto
    (whose own AWS SDK would try the profile) nor Terraform.
    """
    env = {k: v for k, v in environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_run_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class ServerState:
    """What ``build/<run>/emulator.json`` records about a running emulator."""

    pid: int
    port: int
    account_id: str
    run_id: str
    log: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, path: Path) -> ServerState | None:
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            raise EmulatorError(f"{path}: not an emulator state file ({exc}); delete it if no emulator is running") from exc


def start(executable: Path, account_id: str, run_id: str, log_path: Path, timeout: float = 60) -> ServerState:
    """Start ``moto_server`` on a free port of 127.0.0.1 and wait until it answers.

    ``MOTO_ACCOUNT_ID`` makes moto present ``account_id`` (the environment's
    account), so the stacks' ``allowed_account_ids`` hold unchanged.
    """
    require(executable)
    port = free_port()
    env = {**without_aws_settings(dict(os.environ)), **MOTO_ENV, "MOTO_ACCOUNT_ID": account_id, RUN_MARKER: run_id}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(executable), "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            # Its own process group and session: a Ctrl-C at the terminal reaches the
            # command, which stops moto itself (and only when it means to).
            start_new_session=True,
        )
    state = ServerState(pid=process.pid, port=port, account_id=account_id, run_id=run_id, log=str(log_path))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorError(f"moto_server exited with code {process.returncode}; see {log_path}")
        if answers(state.url):
            return state
        time.sleep(0.2)
    stop(state)
    raise EmulatorError(f"moto_server did not answer on {state.url} within {timeout:.0f} s; see {log_path}")


def require(executable: Path) -> None:
    """Raise :class:`sophia_infra.tools.MissingTool` (one line, how to get it) if moto's server is not there."""
    if not os.access(executable, os.X_OK):
        raise tools.MissingTool(str(executable))


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/moto-api/", timeout=2).close()
        return True
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def is_running(state: ServerState) -> bool:
    """The recorded process is alive and is this run's moto (a recycled pid is not)."""
    return state.run_id in _markers_of(state.pid) if _HAS_PROC else _alive(state.pid)


def stop(state: ServerState, grace: float = 10) -> None:
    """Stop moto's process group, then anything else still carrying the run's marker."""
    if not _HAS_PROC or state.run_id in _markers_of(state.pid):
        terminate_group(state.pid, grace)
    sweep(state.run_id, grace)


def terminate_group(pgid: int, grace: float = 10) -> None:
    """SIGTERM a process group, SIGKILL it after ``grace`` seconds if it is still there."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _group_alive(pgid):
            return
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def sweep(run_id: str, grace: float = 10) -> list[int]:
    """End every process whose environment carries ``RUN_MARKER=run_id``; returns their pids."""
    found = marked_processes(run_id)
    for pid in found:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in found):
        time.sleep(0.1)
    for pid in found:
        _signal(pid, signal.SIGKILL)
    return found


def marked_processes(run_id: str) -> list[int]:
    """Pids of live processes (not this one) whose environment has ``RUN_MARKER=run_id``."""
    if not _HAS_PROC:
        return []
    mine = os.getpid()
    return [pid for pid in _all_pids() if pid != mine and run_id in _markers_of(pid)]


# --- /proc -------------------------------------------------------------------------------

_HAS_PROC = Path("/proc/self/environ").exists()


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


class ProcStat(NamedTuple):
    state: str  # R, S, D, Z (zombie), ...
    ppid: int
    pgid: int


def proc_stat(pid: int) -> ProcStat | None:
    """A process's state, parent and process group from ``/proc/<pid>/stat``; None once it is gone."""
    try:
        # The command name, in parentheses, may hold spaces and parentheses: split after the last one.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return ProcStat(fields[0], int(fields[1]), int(fields[2]))
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def _markers_of(pid: int) -> set[str]:
    prefix = f"{RUN_MARKER}=".encode()
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
        # A zombie has an empty environment and holds nothing.
        return {item[len(prefix) :].decode() for item in raw.split(b"\0") if item.startswith(prefix)}
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return set()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _HAS_PROC:
        # A zombie (exited, not yet reaped by its parent) runs nothing.
        stat = proc_stat(pid)
        return stat is not None and stat.state != "Z"
    return True


def _group_alive(pgid: int) -> bool:
    if not _HAS_PROC:
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
    return any((stat := proc_stat(pid)) and stat.pgid == pgid and stat.state != "Z" for pid in _all_pids())


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# --- Reading and nudging the emulator without an AWS SDK --------------------------------
# moto does not check signatures; the Authorization header only tells its single-port
# server which service and region a request is for.


class Client:
    """The few emulator calls the commands and tests need (S3 objects, DynamoDB items, RDS)."""

    def __init__(self, url: str):
        self.url = url

    def _request(self, service: str, region: str, path: str, body: bytes | None = None, headers=None) -> bytes:
        auth = f"AWS4-HMAC-SHA256 Credential=emulator/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
        request = urllib.request.Request(f"{self.url}{path}", data=body, headers={"Authorization": auth, **(headers or {})})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def s3_get(self, region: str, bucket: str, key: str) -> bytes | None:
        try:
            return self._request("s3", region, f"/{bucket}/{urllib.parse.quote(key)}")
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

    def dynamodb_delete(self, region: str, table: str, lock_id: str) -> None:
        self._request(
            "dynamodb",
            region,
            "/",
            json.dumps({"TableName": table, "Key": {"LockID": {"S": lock_id}}}).encode(),
            {"X-Amz-Target": "DynamoDB_20120810.DeleteItem", "Content-Type": "application/x-amz-json-1.0"},
        )

    def rds(self, region: str, action: str, **params: str) -> bytes:
        form = urllib.parse.urlencode({"Action": action, "Version": "2014-10-31", **params}).encode()
        return self._request("rds", region, "/", form, {"Content-Type": "application/x-www-form-urlencoded"})

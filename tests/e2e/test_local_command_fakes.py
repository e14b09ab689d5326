"""``make local-up`` / ``make local-down`` (``python -m sophia_infra.emulator``) where they
fail or are interrupted, in seconds: a fake cdktf CLI (through ``$CDKTF_CLI``, the
project's one lookup of the CLI), a fake moto server and a fake terraform. Runs in
``make test``; the real run is ``make e2e`` (test_local_command.py).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sophia_infra.emulator import local, overrides, server, session
from tests import background
from tests.conftest import ROOT

ACCOUNT = "111111111111"

# synth writes two stacks; deploy starts a "Terraform" in a session of its own (as the real
# CLI does, under a pseudo-terminal: only the run's marker finds it), says so, and waits.
# On SIGTERM (the stop) it says so and takes a second to end, as a CLI cleaning up does.
FAKE_CDKTF = """
import json, os, pathlib, signal, subprocess, sys, time
verb, args = sys.argv[1], sys.argv[2:]
if verb == "synth":
    out = pathlib.Path(args[args.index("--output") + 1])
    aws = {"aws": [{"allowed_account_ids": ["%s"], "region": "us-west-2"}]}
    stacks = {
        "state-bootstrap": {"provider": aws, "terraform": {"backend": {"local": {"path": "../../bootstrap.tfstate"}}}},
        "security-dev": {"provider": aws, "resource": {"aws_kms_key": {"key": {}}}},
    }
    for name, config in stacks.items():
        (out / "stacks" / name).mkdir(parents=True)
        (out / "stacks" / name / "cdk.tf.json").write_text(json.dumps(config))
    (out / "manifest.json").write_text(json.dumps({"stacks": {
        "state-bootstrap": {}, "security-dev": {"dependencies": ["state-bootstrap"]}}}))
elif verb == "deploy":
    def stop(signum, frame):
        pathlib.Path(os.environ["FAKE_DEPLOY_STOPPING"]).touch()
        time.sleep(1)
        sys.exit(1)
    signal.signal(signal.SIGTERM, stop)
    terraform = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
    pathlib.Path(os.environ["FAKE_DEPLOY_STARTED"]).write_text(str(terraform.pid))
    time.sleep(300)
""" % ACCOUNT

FAKE_MOTO = """#!{python}
import http.server, sys
class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer((sys.argv[2], int(sys.argv[4])), Answer).serve_forever()
"""


def fakes(folder: Path) -> dict[str, str]:
    """The environment that points the command at the fakes in ``folder``."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    (bin_dir / "terraform").write_text("#!/bin/sh\nexit 0\n")
    (folder / "cdktf.py").write_text(FAKE_CDKTF)
    (folder / "moto_server").write_text(FAKE_MOTO.format(python=sys.executable))
    for program in (bin_dir / "terraform", folder / "moto_server"):
        program.chmod(0o755)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CDKTF_CLI": f"{sys.executable} {folder / 'cdktf.py'}",
        "SOPHIA_MOTO_SERVER": str(folder / "moto_server"),
    }


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never appeared:\n{process.communicate(timeout=30)[0]}")
        time.sleep(0.05)


@background.early()
def interrupted_up(folder: Path) -> dict:
    """``up`` sent SIGINT while a stack deploys, then SIGINT and SIGTERM again while it stops."""
    started, stopping = folder / "deploy-started", folder / "deploy-stopping"
    workdir = folder / "work"
    env = {**os.environ, **fakes(folder), "FAKE_DEPLOY_STARTED": str(started), "FAKE_DEPLOY_STOPPING": str(stopping)}
    process = background.popen(
        [sys.executable, "-m", "sophia_infra.emulator", "up", "--workdir", str(workdir)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    _wait_for(started, process)
    moto = server.ServerState.read(workdir / "emulator.json")
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C does
    _wait_for(stopping, process)  # the stop has begun and waits for the CLI: Ctrl-C again
    os.killpg(process.pid, signal.SIGINT)
    os.killpg(process.pid, signal.SIGTERM)
    output = process.communicate(timeout=120)[0]
    return {
        "code": process.returncode,
        "output": output,
        "moto": moto,
        "terraform": int(started.read_text()),
        "workdir": workdir,
    }


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads the process table from /proc")
def test_an_interrupted_up_stops_every_process_of_its_run_and_ignores_a_second_signal(interrupted_up):
    run = interrupted_up
    assert run["code"] == 130, run["output"]
    assert run["output"].count("SIGINT received: stopping the emulator and every process of this run") == 1, run["output"]
    assert "Traceback" not in run["output"] and "SIGTERM" not in run["output"], run["output"]
    moto = run["moto"]
    assert moto is not None and moto.account_id == ACCOUNT
    assert server.marked_processes(moto.run_id) == []
    assert not server._alive(moto.pid) and not server._alive(run["terraform"])
    assert not (run["workdir"] / "emulator.json").exists()


@pytest.fixture
def bare_machine(tmp_path, monkeypatch) -> Path:
    """A PATH with nothing on it; returns the run's (not yet created) folder."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("CDKTF_CLI", raising=False)
    return tmp_path / "work"


def _up(workdir: Path, capsys) -> tuple[int, list[str]]:
    code = local.main(["up", "--workdir", str(workdir)])
    return code, capsys.readouterr().out.splitlines()


def test_up_without_node_or_the_cli_is_one_line_before_anything_starts(bare_machine, capsys):
    code, lines = _up(bare_machine, capsys)
    # node when the pinned CLI is installed (make test installs it), else the CLI itself.
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(("local-up: node not found on PATH: install Node.js", "local-up: cdktf not found on PATH"))
    assert not bare_machine.exists()


def test_up_with_cdktf_cli_naming_a_missing_file(bare_machine, capsys, monkeypatch):
    monkeypatch.setenv("CDKTF_CLI", "/nonexistent/bin/cdktf")
    code, lines = _up(bare_machine, capsys)
    assert (code, lines) == (2, [
        "local-up: /nonexistent/bin/cdktf not found: run make synth in the repository (it installs the pinned "
        "cdktf-cli 0.21.0 into node_modules/), or point CDKTF_CLI at another cdktf command"
    ])  # fmt: skip


def test_up_without_terraform_or_moto(tmp_path, bare_machine, capsys, monkeypatch):
    monkeypatch.setenv("CDKTF_CLI", sys.executable)
    code, lines = _up(bare_machine, capsys)
    assert code == 2 and lines == ["local-up: terraform not found on PATH: install Terraform 1.11 (https://developer.hashicorp.com/terraform/install)"]

    (tmp_path / "fakes").mkdir()
    monkeypatch.setenv("PATH", fakes(tmp_path / "fakes")["PATH"])
    monkeypatch.setattr(session, "MOTO_SERVER", tmp_path / "no-venv-e2e" / "moto_server")
    code, lines = _up(bare_machine, capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"local-up: {tmp_path}/no-venv-e2e/moto_server not found: "), lines
    assert "make local-up and make e2e install it into .venv-e2e" in lines[0]
    assert not bare_machine.exists()


def test_a_damaged_state_file_is_one_line(tmp_path, capsys):
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "emulator.json").write_text(json.dumps({"pid": 1}))
    for command, prefix in (("up", "local-up"), ("down", "local-down"), ("status", "emulator")):
        assert local.main([command, "--workdir", str(workdir)]) == 1
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"{prefix}: {workdir}/emulator.json: not an emulator state file"), lines


def test_the_terraform_cli_configuration_is_written_once_per_run(tmp_path):
    # Each CLI call takes the session's environment; rewriting the file for each would
    # truncate it under a call that starts meanwhile (a test holds one deploy open).
    run = session.Session(tmp_path / "work")
    path = Path(run.env()["TF_CLI_CONFIG_FILE"])
    assert path == run.workdir / "terraform.rc" and "plugin_cache_dir" in path.read_text()
    path.write_text("# as the first call read it\n")
    assert run.env()["TF_CLI_CONFIG_FILE"] == str(path) and path.read_text() == "# as the first call read it\n"


def test_down_lifts_the_deletion_protection_of_the_rds_instances_in_the_states_it_read():
    calls = []

    class Client:
        def rds(self, region, action, **params):
            calls.append((region, action, params["DBInstanceIdentifier"], params["DeletionProtection"]))

    class Run:
        client = Client()

    def instance(identifier: str, protected: bool) -> dict:
        arn = f"arn:aws:rds:us-west-2:{ACCOUNT}:db:{identifier}"
        return {"attributes": {"identifier": identifier, "arn": arn, "deletion_protection": protected}}

    states = {
        "data-dev": {"resources": [
            {"mode": "managed", "type": "aws_db_instance", "instances": [instance("blue", True), instance("green", False)]},
            {"mode": "data", "type": "aws_db_instance", "instances": [instance("read-only", True)]},
        ]},
        "security-dev": None,
    }  # fmt: skip
    assert local.lift_deletion_protection(Run(), states) == ["blue"]
    assert calls == [("us-west-2", "ModifyDBInstance", "blue", "false")]


def test_deploy_each_prints_a_line_per_stack_and_stops_after_a_failure(tmp_path):
    class Run:
        def __init__(self):
            self.deployed = []

        def deploy(self, stack, check=True):
            self.deployed.append(stack)
            return session.Call([stack], 1 if stack == "data-dev" else 0, 2.0, "", tmp_path / f"{stack}.log")

        def state_of(self, stack):
            return {"resources": [{"mode": "managed", "type": "aws_kms_key", "name": "k", "instances": [{}, {}]}]}

    plans = {name: overrides.StackPlan(name) for name in ("security-dev", "ai-workloads-dev", "data-dev", "compute-dev")}
    plans["ai-workloads-dev"].skipped = "needs a Kubernetes API"
    plans["security-dev"].excluded["aws_s3_bucket_policy.p"] = "moto"
    out, run = io.StringIO(), Run()
    results = local.deploy_each(run, plans, out, check=False)
    assert [(r.stack, r.status, r.applied, r.excluded) for r in results] == [
        ("security-dev", "deployed", 2, 1), ("ai-workloads-dev", "skipped", 0, 0), ("data-dev", "failed", 2, 0),
    ]  # fmt: skip
    assert run.deployed == ["security-dev", "data-dev"]
    assert out.getvalue().splitlines() == [
        "  [1/4] security-dev         deployed   2 resources,  1 excluded     2.0s",
        "  [2/4] ai-workloads-dev     skipped: needs a Kubernetes API",
        f"  [3/4] data-dev             FAILED (log: {tmp_path}/data-dev.log)   2 resources,  0 excluded     2.0s",
    ]

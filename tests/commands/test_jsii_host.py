"""The jsii kernel in one Node process (sophia_infra/jsii_host.py).

That the synthesized output is unchanged is shown by every synth of the suite (they run
with the host) against the snapshots and the eager-import synth.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys

from sophia_infra import jsii_host
from tests.conftest import ROOT


def test_the_kernel_bundle_changes_only_in_its_channel():
    files = jsii_host.host_files()
    assert files is not None, "jsii's lib/program.js no longer has the line the host rewrites"
    original = jsii_host._jsii_file("lib__program.js")
    assert files["program.js"] != original
    assert files["program.js"].replace(b"readFD:0,writeFD:1", b"readFD:3,writeFD:3") == original


def test_a_bundle_without_that_line_installs_nothing(monkeypatch):
    monkeypatch.setattr(jsii_host, "_CHANNEL", b"readFD:7,writeFD:7")
    monkeypatch.delenv("JSII_RUNTIME", raising=False)
    monkeypatch.delenv("JSII_NODE", raising=False)
    assert jsii_host.install() is False
    assert "JSII_RUNTIME" not in os.environ and "JSII_NODE" not in os.environ


def test_a_host_that_cannot_be_written_installs_nothing(monkeypatch, tmp_path):
    (tmp_path / "share").write_text("a file where the folder would go")
    monkeypatch.setattr(jsii_host.sys, "prefix", str(tmp_path))
    monkeypatch.delenv("JSII_RUNTIME", raising=False)
    monkeypatch.delenv("JSII_NODE", raising=False)
    assert jsii_host.install() is False
    assert "JSII_RUNTIME" not in os.environ


def test_a_users_own_runtime_is_left_alone(monkeypatch):
    monkeypatch.setenv("JSII_RUNTIME", "/opt/my/jsii-runtime.js")
    monkeypatch.delenv("JSII_NODE", raising=False)
    assert jsii_host.install() is False
    assert os.environ["JSII_RUNTIME"] == "/opt/my/jsii-runtime.js"
    assert "JSII_NODE" not in os.environ


def test_what_javascript_prints_reaches_python_framed_as_the_relay_did(tmp_path):
    # The host with a stand-in kernel that prints: nothing may reach the channel (stdout).
    folder = jsii_host.prepare()
    assert folder is not None
    shutil.copy(folder / "host.js", tmp_path / "host.js")
    shutil.copy(folder / "node", tmp_path / "node")
    (tmp_path / "program.js").write_text('console.log("to stdout"); console.error("to stderr"); process.stdout.write("x");\n')
    done = subprocess.run([str(tmp_path / "node"), str(tmp_path / "host.js")], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""
    frames = [json.loads(line) for line in done.stderr.splitlines()]
    decoded = [(key, base64.b64decode(value)) for frame in frames for key, value in frame.items()]
    assert decoded == [("stdout", b"to stdout\n"), ("stderr", b"to stderr\n"), ("stdout", b"x")]


def test_the_host_refuses_to_run_without_preserve_symlinks(tmp_path):
    folder = jsii_host.prepare()
    assert folder is not None
    done = subprocess.run(["node", str(folder / "host.js")], capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert b"--preserve-symlinks" in done.stderr


CHILDREN = """
import os, sys
from sophia_infra import jsii_host
assert jsii_host.install()
import cdktf  # starts the kernel
children = []
for task in os.listdir(f"/proc/{os.getpid()}/task"):
    children += open(f"/proc/{os.getpid()}/task/{task}/children").read().split()
commands = [open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0") for pid in children]
grandchildren = [open(f"/proc/{pid}/task/{pid}/children").read().split() for pid in children]
print(len(commands), commands[0][-2].decode(), sum(map(len, grandchildren)))
"""


def test_python_starts_one_node_process_running_the_host():
    env = {k: v for k, v in os.environ.items() if k not in ("JSII_RUNTIME", "JSII_NODE")}
    done = subprocess.run([sys.executable, "-c", CHILDREN], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    count, script, grandchildren = done.stdout.split()
    assert (count, os.path.basename(script), grandchildren) == ("1", "host.js", "0")

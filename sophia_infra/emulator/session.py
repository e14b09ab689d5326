"""One emulator run: moto on 127.0.0.1 and the pinned cdktf CLI pointed at it.

The CLI is the project's one lookup (:func:`sophia_infra.tools.cdktf_command`:
``$CDKTF_CLI``, else the CLI pinned in ``package-lock.json``, else ``cdktf``); a
missing CLI, node or Terraform is :class:`sophia_infra.tools.MissingTool`, one line.

The switch that sends a deployment to the emulator is the environment of the
commands, never the product's output:

- ``AWS_ENDPOINT_URL`` (read by the AWS SDK for Go v2 under both Terraform's S3
  backend and the aws provider 5.x) sends every AWS API call to moto; an IP
  endpoint makes the SDK use path-style S3 addresses;
- fixed fake credentials, with every ``AWS_*`` variable of the caller removed
  and the shared AWS config files hidden, so no real profile or account is used;
- moto presents the state account (``MOTO_ACCOUNT_ID``): the backends assume a role
  there, and moto moves a session that assumed a role into the role's account, where
  state-bootstrap made the bucket and lock table. dev runs in that same account, so
  its stacks' ``allowed_account_ids`` hold as synthesized;
- a Terraform CLI configuration of the run's own (``build/<run>/terraform.rc``),
  installing providers from the local mirror when the machine has one.

The run synthesizes with ``cdktf synth --output build/<run>/cdktf.out``, adds
the overrides of :mod:`moto_limits` there, and deploys from that directory with
``--skip-synth``: the project's ``cdktf.out/`` is never touched.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from sophia_infra import terraform_cli as tf
from sophia_infra import tools
from sophia_infra.emulator import overrides, server

ROOT = Path(__file__).resolve().parents[2]
MOTO_SERVER = Path(os.environ.get("SOPHIA_MOTO_SERVER", ROOT / ".venv-e2e" / "bin" / "moto_server"))
PLUGIN_CACHE = ROOT / "build" / "tf-plugin-cache"
BOOTSTRAP = "state-bootstrap"

# The emulator accepts any credentials; fixed ones keep a developer's real profile out.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "emulator", "AWS_SECRET_ACCESS_KEY": "emulator"}

# cdktf deploy/destroy/diff/output flags every emulator call uses: the output was
# synthesized once (a re-synthesis would replace the directory and the overrides with
# it); `terraform providers lock` only asks the registry for other platforms' hashes.
SKIP = ("--skip-synth", "--skip-provider-lock")


@dataclass
class Call:
    """One CLI invocation: what ran, how it ended, how long it took, where its output is."""

    command: list[str]
    returncode: int
    seconds: float
    output: str
    log: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class CommandFailed(Exception):
    def __init__(self, call: Call):
        tail = "\n".join(call.output.rstrip().splitlines()[-40:])
        super().__init__(f"`{' '.join(call.command)}` exited with {call.returncode} after {call.seconds:.1f}s (log: {call.log}):\n{tail}")
        self.call = call


@dataclass
class Session:
    """An emulator run rooted at ``workdir`` (``build/local`` for make local-up, ``build/e2e`` for make e2e)."""

    workdir: Path
    run_id: str = field(default_factory=server.new_run_id)
    state: server.ServerState | None = None
    calls: list[Call] = field(default_factory=list)
    cli: list[str] = field(default_factory=tools.cdktf_command)
    """The cdktf CLI every call runs, found once."""
    _children: set[int] = field(default_factory=set)
    # CLI calls running besides the one being judged (a deploy held open by a test, say).
    _active: int = 0

    def __post_init__(self) -> None:
        # The CLI runs terraform in each stack's directory: every path it is given must be absolute.
        self.workdir = Path(self.workdir).resolve()

    @property
    def outdir(self) -> Path:
        return self.workdir / "cdktf.out"

    @property
    def state_file(self) -> Path:
        return self.workdir / "emulator.json"

    @property
    def log_dir(self) -> Path:
        return self.workdir / "logs"

    @property
    def client(self) -> server.Client:
        assert self.state is not None, "the emulator is not running"
        return server.Client(self.state.url)

    def check_tools(self, *, emulator: bool = True) -> None:
        """Raise :class:`tools.MissingTool` for the first tool the run needs that this machine
        lacks (the CLI and the node it runs on, terraform, with ``emulator`` moto's server),
        before anything starts."""
        if problem := tools.missing(self.cli):
            raise problem
        tools.require("terraform")
        if emulator:
            server.require(MOTO_SERVER)

    # --- the emulator ---------------------------------------------------------------------

    def start(self, account_id: str) -> server.ServerState:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.state = server.start(MOTO_SERVER, account_id, self.run_id, self.workdir / "moto.log")
        self.state.write(self.state_file)
        return self.state

    def attach(self) -> server.ServerState | None:
        """Adopt the emulator recorded in the state file (``make local-down``), if it still runs."""
        state = server.ServerState.read(self.state_file)
        if state is None:
            return None
        self.run_id = state.run_id
        self.state = state if server.is_running(state) else None
        return self.state

    def stop(self) -> None:
        """Stop every CLI call still running, moto, and anything else carrying this run's marker."""
        for pgid in list(self._children):
            server.terminate_group(pgid, grace=5)
        self._children.clear()
        if self.state is not None:
            server.stop(self.state)
        else:
            server.sweep(self.run_id)
        self.state = None
        self.state_file.unlink(missing_ok=True)

    # --- the CLI ----------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = server.without_aws_settings(dict(os.environ))
        env.update(
            FAKE_CREDENTIALS,
            TF_CLI_CONFIG_FILE=str(self.terraform_rc),
            TF_PLUGIN_CACHE_DIR=str(PLUGIN_CACHE),
            CHECKPOINT_DISABLE="1",
            CI="true",
            JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
            **{server.RUN_MARKER: self.run_id},
        )
        if self.state is not None:
            env["AWS_ENDPOINT_URL"] = self.state.url
        return env

    @functools.cached_property
    def mirror(self) -> Path | None:
        """This machine's provider mirror, or None: providers then come from the registry as usual."""
        try:
            return tf.find_mirror()
        except tf.TerraformSetupError:
            return None

    @functools.cached_property
    def terraform_rc(self) -> Path:
        """The run's Terraform CLI configuration, written once: rewriting it for each call
        would truncate it under a call that is starting meanwhile."""
        path = self.workdir / "terraform.rc"
        if self.mirror is not None:
            return tf.write_cli_config(path, self.mirror, PLUGIN_CACHE)
        PLUGIN_CACHE.mkdir(parents=True, exist_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'# Written by sophia_infra/emulator; do not edit.\nplugin_cache_dir = "{PLUGIN_CACHE}"\n')
        return path

    def cdktf(self, *args: str, label: str, check: bool = True, timeout: float = 1800) -> Call:
        """``cdktf <args>`` from the repository root, in its own process group, logged."""
        command = [*self.cli, *args]
        if problem := tools.missing(command):
            raise problem
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{len(list(self.log_dir.glob('*.log'))) + 1:02d}-{label}.log"
        started = time.monotonic()
        self._active += 1
        with log.open("w") as out:
            out.write(f"$ {' '.join(command)}\n")
            out.flush()
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self._children.add(process.pid)
            try:
                returncode = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                server.terminate_group(process.pid, grace=10)
                returncode = process.wait()
            finally:
                # Ctrl-C/SIGTERM lands here too (the handler raises); the caller stops the rest.
                if process.poll() is None:
                    server.terminate_group(process.pid, grace=5)
                self._children.discard(process.pid)
                self._active -= 1
        seconds = time.monotonic() - started
        call = Call(command, returncode, seconds, log.read_text(errors="replace"), log)
        with log.open("a") as out:
            out.write(f"\n# exit {returncode} after {seconds:.1f}s\n")
        self.calls.append(call)
        if check and not call.ok:
            raise CommandFailed(call)
        return call

    def _stack_call(self, stack: str, *args: str, label: str, check: bool) -> Call:
        """A deploy/diff/destroy of one stack; retried once after the emulator's own duplicate lock.

        Under load, moto sometimes has a DynamoDB PutItem applied twice (the AWS SDK
        retries a request whose response it did not get): Terraform's lock item is
        written, the retry fails its condition, and the lock is left held by a call
        that already gave up. Only when no other call of this run is running can the
        held lock be that leftover; it is then removed and the call made again.
        """
        call = self.cdktf(*args, label=label, check=False)
        if not call.ok and self._active == 0 and (lock_id := _duplicate_lock_id(call.output)):
            if self._remove_lock_item(stack, lock_id):
                with call.log.open("a") as out:
                    out.write(f"# emulator: removed the duplicate DynamoDB lock item {lock_id} left by this call; retrying\n")
                call = self.cdktf(*args, label=f"{label}-retry", check=False)
        if check and not call.ok:
            raise CommandFailed(call)
        return call

    def _remove_lock_item(self, stack: str, lock_id: str) -> bool:
        backend = self.backend(stack)
        if backend is None or "dynamodb_table" not in backend:
            return False
        key = f"{backend['bucket']}/{backend['key']}"
        for item in self.client.dynamodb_items(backend["region"], backend["dynamodb_table"]):
            if item["LockID"]["S"] == key and json.loads(item.get("Info", {}).get("S", "{}")).get("ID") == lock_id:
                self.client.dynamodb_delete(backend["region"], backend["dynamodb_table"], key)
                return True
        return False

    def synth(self) -> Call:
        """``cdktf synth`` into the run's own output directory (the project's cdktf.out/ stays as it is)."""
        # Output of an earlier run (with its bootstrap state) belongs to that run: start clean.
        if self.outdir.exists():
            shutil.rmtree(self.outdir)
        # state-bootstrap's local state (next to the output folder) records an emulator that is gone.
        for stale in self.workdir.glob("*.tfstate*"):
            stale.unlink()
        return self.cdktf("synth", "--output", str(self.outdir), label="synth")

    def deploy(self, stack: str, check: bool = True) -> Call:
        return self._stack_call(stack, *self.deploy_args(stack), label=f"deploy-{stack}", check=check)

    def on_output(self, verb: str, *stacks: str) -> list[str]:
        """``<verb> <stacks>`` as every call after the synthesis runs it: from the run's output, with :data:`SKIP`."""
        return [verb, *stacks, "--output", str(self.outdir), *SKIP]

    def deploy_args(self, stack: str, auto_approve: bool = True) -> list[str]:
        return [
            *self.on_output("deploy", stack), "--ignore-missing-stack-dependencies", "--no-color",
            *(["--auto-approve"] if auto_approve else []),
        ]  # fmt: skip

    def diff(self, stack: str) -> Call:
        return self._stack_call(stack, *self.on_output("diff", stack), "--no-color", label=f"diff-{stack}", check=True)

    def destroy(self, stack: str, check: bool = True) -> Call:
        return self._stack_call(
            stack, *self.on_output("destroy", stack), "--auto-approve", "--ignore-missing-stack-dependencies", "--no-color",
            label=f"destroy-{stack}", check=check,
        )  # fmt: skip

    def outputs(self, stacks: list[str]) -> dict[str, dict]:
        """``cdktf output`` of ``stacks``: stack -> {output: value} (sensitive outputs left out, as the CLI does)."""
        path = self.workdir / "outputs.json"
        path.unlink(missing_ok=True)
        self.cdktf(*self.on_output("output", *stacks), "--outputs-file", str(path), label="output")
        return json.loads(path.read_text())

    # --- the synthesized app ----------------------------------------------------------------

    def manifest(self) -> dict[str, list[str]]:
        """Stack -> its dependencies, from the run's manifest.json."""
        stacks = json.loads((self.outdir / "manifest.json").read_text())["stacks"]
        return {name: list(spec.get("dependencies", [])) for name, spec in stacks.items()}

    def stack_config(self, stack: str) -> dict:
        return json.loads((self.outdir / "stacks" / stack / "cdk.tf.json").read_text())

    def prepare(self, stacks: list[str]) -> dict[str, overrides.StackPlan]:
        """Write each stack's emulator override; returns what each one changes and why."""
        plans = {}
        for stack in stacks:
            plans[stack] = plan = overrides.plan_stack(stack, self.stack_config(stack))
            if plan.skipped:
                if missing := self.missing_providers(stack):
                    plan.skipped += f"; and {', '.join(missing)} is not in this machine's provider mirror"
            else:
                overrides.write_override(self.outdir / "stacks" / stack, plan)
        return plans

    def missing_providers(self, stack: str) -> list[str]:
        """Providers ``stack`` requires that the local mirror lacks (none when there is no mirror)."""
        if self.mirror is None:
            return []
        available = tf.mirror_providers(self.mirror)
        return sorted(f"{p.short} {p.version}" for p in set(tf.required_providers(self.stack_config(stack))) - available)

    def backend(self, stack: str) -> dict | None:
        return self.stack_config(stack).get("terraform", {}).get("backend", {}).get("s3")

    def local_state(self, stack: str) -> Path:
        """The state file of a stack with a local backend, as Terraform resolves it (from the stack's folder)."""
        local = self.stack_config(stack)["terraform"]["backend"]["local"]
        return (self.outdir / "stacks" / stack / local.get("path", "terraform.tfstate")).resolve()

    def state_of(self, stack: str) -> dict | None:
        """The stack's Terraform state: from the emulator's state bucket, or the local file."""
        backend = self.backend(stack)
        if backend is None:
            path = self.local_state(stack)
            return json.loads(path.read_text()) if path.exists() else None
        raw = self.client.s3_get(backend["region"], backend["bucket"], backend["key"])
        return None if raw is None else json.loads(raw)


_LOCK_ID = re.compile(r"Lock Info:\s+ID:\s+([0-9a-f-]{36})")


def _duplicate_lock_id(output: str) -> str | None:
    if "Error acquiring the state lock" in output and "ConditionalCheckFailedException" in output:
        match = _LOCK_ID.search(output)
        return match.group(1) if match else None
    return None


def deploy_order(graph: dict[str, list[str]], stacks: list[str]) -> list[str]:
    """``stacks`` with each one after the stacks it depends on (ties by name, so the order is stable)."""
    wanted = set(stacks)
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(wanted):
        ready = sorted(s for s in wanted - done if all(d in done or d not in wanted for d in graph.get(s, ())))
        if not ready:
            raise ValueError(f"dependency cycle among {sorted(wanted - done)}")
        order.append(ready[0])
        done.add(ready[0])
    return order


def managed_resources(state: dict | None) -> list[str]:
    """Addresses of the managed resource instances a state records."""
    if not state:
        return []
    return [
        f"{r['type']}.{r['name']}" + (f"[{i['index_key']!r}]" if "index_key" in i else "")
        for r in state.get("resources", [])
        if r.get("mode") == "managed"
        for i in r.get("instances", [])
    ]

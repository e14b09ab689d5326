"""Deploy the dev environment the way users deploy it: the pinned cdktf CLI, against moto.

Every step goes through the pinned ``cdktf`` (synth, deploy, diff, output, destroy) with
the S3 backend and the DynamoDB lock on the emulator. The tests share one
emulator and depend on each other's effects, so they run in file order:

1. ``cdktf synth`` under the emulator's environment writes the project's
   ``cdktf.out/`` byte for byte (dev, staging and production): the emulator is
   a switch outside the product's output;
2. ``state-bootstrap`` creates the state bucket and the lock table; its local state
   lies next to the output folder, so a new ``cdktf synth`` replaces the folder
   (with what the deploy left there) and the state survives: ``cdktf diff`` is clean;
3.-5. the dev stacks are deployed in dependency order, each one's state holding
   exactly its resources minus what moto cannot emulate (moto_limits.py); at
   shared-dev's turn, a second ``cdktf deploy`` started while the first holds
   the lock at its approval prompt fails on the lock, and the first completes
   with its state intact;
6. ``cdktf diff`` shows no change for any stack; the stack folders hold only what
   synthesis and the CLI write (what :mod:`sophia_infra.outdir` accepts to replace);
7. ``cdktf output`` returns each stack's documented outputs;
8. ``cdktf destroy`` removes every stack, latest first; the active database
   refuses until its deletion protection is lifted, the state store stays
   (``prevent_destroy``).
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import threading
import time

import pytest

from sophia_infra import outdir
from sophia_infra.emulator import local, overrides, server
from sophia_infra.emulator.moto_limits import LIMITS, ProviderSettings
from sophia_infra.emulator.session import BOOTSTRAP, ROOT, managed_resources
from tests.conftest import tree_bytes
from tests.e2e.conftest import OUTDIR

pytestmark = pytest.mark.e2e

# Held at its approval prompt while a second deploy tries the lock.
LOCKED_STACK = "shared-dev"
NO_CHANGES = "No changes. Your infrastructure matches the configuration."
CLI_FAILED = "Invoking Terraform CLI failed with exit code 1"
EMPTY_PLAN = "Plan: 0 to add, 0 to change, 0 to destroy."
DEFERRED_READ = re.compile(r"# data\.(\w+)\.\S+ will be read during apply")
# Outputs moto leaves empty (not overridden: the value is what moto answers).
EMPTY_ON_MOTO = {
    # moto's EKS cluster reports no cluster security group (moto_limits.py, aws_launch_template).
    ("compute-dev", "cluster_security_group_id"),
}


def _expected_resources(run, stack: str) -> set[str]:
    config = run.session.stack_config(stack)
    every = {f"{t}.{n}" for t, items in config.get("resource", {}).items() for n in items}
    return every - set(run.plans[stack].excluded_resources)


def _record(run, stack: str, call) -> None:
    result = run.result(stack)
    result.status = "deployed"
    result.seconds += call.seconds
    result.applied = len(managed_resources(run.session.state_of(stack)))
    result.excluded = len(run.plans[stack].excluded_resources)


def _assert_deployed(run, stack: str) -> dict:
    state = run.session.state_of(stack)
    assert state is not None, f"{stack}: no state after the deploy"
    assert set(managed_resources(state)) == _expected_resources(run, stack), f"{stack}: state differs from the stack minus its exclusions"
    backend = run.session.backend(stack)
    if backend:
        # The S3 backend records each state's digest in the lock table: proof the table was used.
        items = {i["LockID"]["S"] for i in run.session.client.dynamodb_items(backend["region"], backend["dynamodb_table"])}
        assert f"{backend['bucket']}/{backend['key']}-md5" in items, f"{stack}: lock table has no digest item"
    return state


def test_1_cli_synth_under_the_emulator_writes_the_projects_output(run):
    session = run.session
    env = session.env()
    assert env["AWS_ENDPOINT_URL"] == session.state.url and env["AWS_ACCESS_KEY_ID"] == "emulator"
    session.synth()
    produced = tree_bytes(session.outdir)
    assert {p.split("/")[1] for p in produced if p.startswith("stacks/")} >= {
        f"{function}-{env}" for function in ("security", "data") for env in ("dev", "staging", "production")
    }
    assert produced == tree_bytes(OUTDIR), "the emulator's environment changed the synthesized output"

    run.stacks = local.environment_stacks(session)
    run.plans = session.prepare(run.stacks)
    for stack in run.stacks:
        run.result(stack)  # the summary lists every stack, in deployment order
    assert run.plans["ai-workloads-dev"].skipped
    skipped = run.result("ai-workloads-dev")
    skipped.status, skipped.note = "skipped", run.plans["ai-workloads-dev"].skipped
    # The overrides went into the run's copy only.
    assert (session.outdir / "stacks" / "compute-dev" / overrides.OVERRIDE_FILE).exists()
    assert not list(OUTDIR.glob(f"stacks/*/{overrides.OVERRIDE_FILE}"))


def test_2_bootstrap_creates_the_state_bucket_and_lock_table(run):
    assert run.stacks, "the run's output was not synthesized"
    call = run.session.deploy(BOOTSTRAP)
    _record(run, BOOTSTRAP, call)
    _assert_deployed(run, BOOTSTRAP)
    outputs = run.session.outputs([BOOTSTRAP])[BOOTSTRAP]
    backend = run.session.backend("security-dev")
    assert outputs["state_bucket"] == backend["bucket"]
    assert outputs["lock_table"] == backend["dynamodb_table"]
    assert run.session.client.dynamodb_items(backend["region"], backend["dynamodb_table"]) == []


def test_2b_a_new_synthesis_after_the_bootstrap_deploy_keeps_its_state(run):
    session = run.session
    assert run.result(BOOTSTRAP).status == "deployed", "state-bootstrap was not deployed"
    state = session.local_state(BOOTSTRAP)
    assert state.parent == session.outdir.parent, f"{state}: the bootstrap state is not next to the output folder"
    before = state.read_bytes()
    # What a user's folder holds after `cdktf deploy state-bootstrap`: the same without the emulator's overrides.
    for override in session.outdir.glob(f"stacks/*/{overrides.OVERRIDE_FILE}"):
        override.unlink()
    assert (session.outdir / "stacks" / BOOTSTRAP / ".terraform" / "terraform.tfstate").exists()
    assert outdir.not_a_synthesis_output(session.outdir) is None
    session.cdktf("synth", "--output", str(session.outdir), label="synth-again")
    assert tree_bytes(session.outdir) == tree_bytes(OUTDIR)
    assert state.read_bytes() == before, "the new synthesis changed the bootstrap state"
    session.prepare(run.stacks)
    call = session.diff(BOOTSTRAP)
    assert NO_CHANGES in call.output, f"state-bootstrap: cdktf diff after a new synthesis is not clean (log: {call.log})"


def _deploy_in_order(run, stacks: list[str]) -> None:
    for stack in stacks:
        _record(run, stack, run.session.deploy(stack))
        _assert_deployed(run, stack)


def _to_deploy(run) -> list[str]:
    return [s for s in run.stacks if s != BOOTSTRAP and not run.plans[s].skipped]


def test_3_upstream_stacks_deploy_in_dependency_order_through_the_s3_backend(run):
    graph = run.session.manifest()
    order = _to_deploy(run)
    for position, stack in enumerate(order):
        assert set(graph[stack]) & set(order) <= set(order[:position]), f"{stack} comes before a stack it needs"
    _deploy_in_order(run, order[: order.index(LOCKED_STACK)])


def test_4_concurrent_deploy_is_stopped_by_the_lock(run):
    order = _to_deploy(run)
    assert all(run.result(s).status == "deployed" for s in order[: order.index(LOCKED_STACK)]), "upstream stacks missing"
    session = run.session
    backend = session.backend(LOCKED_STACK)
    lock_id = f"{backend['bucket']}/{backend['key']}"

    first = InteractiveDeploy(session, LOCKED_STACK)
    try:
        first.wait_for_approval_prompt()
        # The first deploy has planned and holds both locks while it waits for approval.
        items = {i["LockID"]["S"]: i for i in session.client.dynamodb_items(backend["region"], backend["dynamodb_table"])}
        assert lock_id in items, f"no DynamoDB lock item {lock_id} while a deploy holds the lock"
        assert json.loads(items[lock_id]["Info"]["S"])["Operation"] == "OperationTypeApply"
        if backend.get("use_lockfile"):
            assert session.client.s3_get(backend["region"], backend["bucket"], f"{backend['key']}.tflock") is not None

        second = session.deploy(LOCKED_STACK, check=False)
        assert second.returncode != 0, "a second deploy went through while the first held the lock"
        assert "Error acquiring the state lock" in second.output
        assert first.process.poll() is None, "the first deploy did not hold on while the second ran"

        returncode, seconds = first.approve()
    finally:
        first.stop()
    assert returncode == 0, f"the first deploy failed:\n{first.text[-4000:]}"
    assert "Apply complete!" in first.text
    result = run.result(LOCKED_STACK)
    result.status, result.seconds = "deployed", seconds
    result.applied = len(managed_resources(session.state_of(LOCKED_STACK)))
    result.excluded = len(run.plans[LOCKED_STACK].excluded_resources)
    state = _assert_deployed(run, LOCKED_STACK)
    assert state["serial"] >= 1
    items = {i["LockID"]["S"] for i in session.client.dynamodb_items(backend["region"], backend["dynamodb_table"])}
    assert lock_id not in items, "the lock was not released after the deploy"
    if backend.get("use_lockfile"):
        assert session.client.s3_get(backend["region"], backend["bucket"], f"{backend['key']}.tflock") is None


def test_5_downstream_stacks_deploy(run):
    order = _to_deploy(run)
    assert run.result(LOCKED_STACK).status == "deployed", f"{LOCKED_STACK} was not deployed"
    _deploy_in_order(run, order[order.index(LOCKED_STACK) + 1 :])


def test_6_cdktf_diff_shows_no_change_for_any_stack(run):
    deployed = [r.stack for r in run.report.results if r.status == "deployed"]
    assert len(deployed) == len([s for s in run.stacks if not run.plans[s].skipped]), "not every stack was deployed"
    for stack in deployed:
        call = run.session.diff(stack)
        _assert_no_changes(stack, call)
    # After deploy and diff: nothing in any stack's folder but what synthesis and the CLI write.
    written = {p.name for p in run.session.outdir.glob("stacks/*/*")} - {overrides.OVERRIDE_FILE}
    assert written <= outdir.SYNTH_STACK_ENTRIES | outdir.CLI_STACK_ENTRIES, written
    assert {"cdk.tf.json", ".terraform", ".terraform.lock.hcl", "plan"} <= written


def _assert_no_changes(stack: str, call) -> None:
    if NO_CHANGES in call.output:
        return
    # A check block's data source that moto cannot answer (moto_limits.ProviderSettings) is
    # read again at apply, so Terraform reports a plan instead of "No changes": it may list
    # those reads and nothing else.
    deferred = set(DEFERRED_READ.findall(call.output))
    unanswered = {limit.data_source for limit in LIMITS if isinstance(limit, ProviderSettings)}
    clean = EMPTY_PLAN in call.output and deferred and deferred <= unanswered
    assert clean, f"{stack}: cdktf diff is not clean (log: {call.log}):\n{call.output[-4000:]}"


def test_7_cdktf_output_returns_the_documented_outputs(run):
    deployed = [r.stack for r in run.report.results if r.status == "deployed"]
    outputs = run.session.outputs(deployed)
    for stack in deployed:
        declared = run.session.stack_config(stack).get("output", {})
        public = {name for name, spec in declared.items() if not spec.get("sensitive")}
        assert set(outputs[stack]) == public, stack
        for name in public:
            value = outputs[stack][name]
            if name in run.plans[stack].replaced_outputs:
                assert value == overrides.EXCLUDED_OUTPUT, (stack, name)
            elif (stack, name) in EMPTY_ON_MOTO:
                assert value == "", f"{stack}.{name} = {value!r}: moto reports it now; drop it from EMPTY_ON_MOTO"
            else:
                assert value not in ("", None, overrides.EXCLUDED_OUTPUT), (stack, name, value)
    assert outputs["networking-dev"]["vpc_id"].startswith("vpc-")
    assert outputs["data-dev"]["active_database_endpoint"].endswith(":5432")
    assert outputs["data-dev"]["active_master_user_secret_arn"].startswith("arn:aws:secretsmanager:us-west-2:")
    assert outputs["compute-dev"]["cluster_name"] == "sophia-compute-eks-dev"


def test_8_cdktf_destroy_removes_every_stack_latest_first(run):
    session = run.session
    deployed = [s for s in run.stacks if run.result(s).status == "deployed" and s != BOOTSTRAP]
    for stack in reversed(deployed):
        call = session.destroy(stack, check=False)
        if stack == "data-dev":
            # The active database is protected on AWS as on the emulator: destroy is refused ...
            assert call.returncode != 0 and "deletion protection" in call.output.lower(), call.output[-3000:]
            # ... until an operator lifts the protection, explicitly.
            assert local.lift_deletion_protection(session, {stack: session.state_of(stack)}) == ["sophia-data-postgres-dev-blue"]
            call = session.destroy(stack, check=False)
        assert call.ok, f"{stack}: destroy failed (log: {call.log}):\n{call.output[-4000:]}"
        assert managed_resources(session.state_of(stack)) == [], f"{stack}: resources left in state after destroy"
        run.result(stack).note = f"destroyed in {call.seconds:.1f}s"
    # The state store is prevent_destroy: cdktf destroy refuses before touching anything.
    call = session.destroy(BOOTSTRAP, check=False)
    assert call.returncode != 0, "state-bootstrap was destroyed despite prevent_destroy"
    # The CLI sometimes exits before printing Terraform's last lines (seen: the log ends at
    # "Changes to Outputs:"), so the message is checked when shown; what counts is that
    # nothing was destroyed.
    assert "Instance cannot be destroyed" in call.output or CLI_FAILED in call.output, call.output[-3000:]
    assert len(managed_resources(session.state_of(BOOTSTRAP))) == run.result(BOOTSTRAP).applied
    backend = session.backend("security-dev")
    assert session.client.s3_get(backend["region"], backend["bucket"], backend["key"]) is not None, "the state bucket is gone"
    locks = [i["LockID"]["S"] for i in session.client.dynamodb_items(backend["region"], backend["dynamodb_table"])]
    assert all(lock.endswith("-md5") for lock in locks), f"locks left behind: {locks}"


class InteractiveDeploy:
    """``cdktf deploy`` without ``--auto-approve`` under a pseudo-terminal (the CLI needs one to ask)."""

    PROMPT = "Only 'yes' will be accepted to approve."

    def __init__(self, session, stack: str):
        self.session = session
        self.started = time.monotonic()
        master, replica = pty.openpty()
        self.master = master
        self.process = subprocess.Popen(
            [*session.cli, *session.deploy_args(stack, auto_approve=False)],
            cwd=ROOT,
            env=session.env(),
            stdin=replica,
            stdout=replica,
            stderr=replica,
            start_new_session=True,
        )
        os.close(replica)
        # The session must not take this deploy's lock for a leftover of its own calls.
        session._active += 1
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.log = session.log_dir / f"interactive-deploy-{stack}.log"

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace")

    def wait_for_approval_prompt(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while self.PROMPT not in self.text:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the deploy never asked for approval:\n{self.text[-4000:]}")
            time.sleep(0.5)

    def approve(self, timeout: float = 1200) -> tuple[int, float]:
        os.write(self.master, b"\r")  # the CLI's first choice: Approve
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code, time.monotonic() - self.started

    def stop(self) -> None:
        if self.process.poll() is None:
            server.terminate_group(self.process.pid)
        self.session._active -= 1
        self.log.write_text(self.text)
        os.close(self.master)

"""Deploy synthesized stacks for real, offline: Terraform against moto's server.

The four steps of issue 6, in order (the tests share one emulator and depend
on each other's effects, so they run in file order):

1. ``state-bootstrap`` (local backend) creates the state bucket and lock table;
2. function stacks of one environment are applied through the S3 backend,
   leaving their state in the bucket and using the DynamoDB lock table;
3. a second apply of the same stack, started while the first holds the lock,
   fails with the lock error; the first completes and the state stays intact;
4. a new plan of every stack shows no changes, then the stacks are destroyed.

``SOPHIA_E2E_STACKS`` (default ``baseline-dev security-dev shared-dev
networking-dev``) chooses the function stacks, upstream first; the last one is the
one applied concurrently. The order for a whole environment is the bootstrap order of
docs/deployment.md: ``baseline-<env>`` right after ``state-bootstrap``.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.e2e.conftest import stack_config
from tests.e2e.emulator import write_json_override

pytestmark = pytest.mark.e2e

BOOTSTRAP = "state-bootstrap"
STACKS = os.environ.get("SOPHIA_E2E_STACKS", "baseline-dev security-dev shared-dev networking-dev").split()
LOCKED_STACK = STACKS[-1]

# Emulator-only adjustments, by stack, written as override files into the copy.
# Keep each justified: it must be a moto limitation, never a fix for the stack.
EMULATOR_ADJUSTMENTS: dict[str, dict] = {}


def _backend(stack: str) -> dict:
    return stack_config(stack)["terraform"]["backend"]["s3"]


@pytest.fixture(scope="module")
def deployed() -> dict:
    """Stack name -> working copy, filled as the tests apply them."""
    return {}


def _without_bucket_policies(stack: str) -> dict:
    """moto denies every object request on a bucket whose policy has a conditional Deny.

    It evaluates bucket-policy conditions without the request's context
    (moto/iam/access_control.py, ``_check_conditions`` gets no values), so
    ``DenyInsecureTransport`` answers 403 to the backend's HeadObject even over
    TLS. Real S3 honours the policy; only the emulator copy drops it.
    """
    policies = stack_config(stack).get("resource", {}).get("aws_s3_bucket_policy", {})
    return {"resource": {"aws_s3_bucket_policy": {name: {"count": 0} for name in policies}}} if policies else {}


def test_1_bootstrap_creates_state_bucket_and_lock_table(terraform, stage, moto, deployed):
    work = stage(BOOTSTRAP)
    if adjustment := _without_bucket_policies(BOOTSTRAP):
        write_json_override(work, "emulator_adjustments", adjustment)
    terraform.ok(work, "init", "-input=false", "-no-color")
    terraform.ok(work, "apply", "-auto-approve", "-input=false", "-no-color")
    outputs = json.loads(terraform.ok(work, "output", "-json").stdout)
    backend = _backend(STACKS[0])
    assert outputs["state_bucket"]["value"] == backend["bucket"]
    assert outputs["lock_table"]["value"] == backend["dynamodb_table"]
    assert moto.dynamodb_items(backend["region"], backend["dynamodb_table"]) == []
    deployed[BOOTSTRAP] = work


def _prepare(stage, terraform, stack: str):
    work = stage(stack)
    if stack in EMULATOR_ADJUSTMENTS:
        write_json_override(work, "emulator_adjustments", EMULATOR_ADJUSTMENTS[stack])
    terraform.ok(work, "init", "-input=false", "-no-color")
    return work


def test_2_apply_function_stacks_through_s3_backend(terraform, stage, moto, deployed):
    assert BOOTSTRAP in deployed, "state-bootstrap was not applied"
    for stack in STACKS[:-1]:
        work = _prepare(stage, terraform, stack)
        terraform.ok(work, "apply", "-auto-approve", "-input=false", "-no-color")
        deployed[stack] = work
        _assert_state_in_bucket(moto, stack)


def test_3_concurrent_apply_is_stopped_by_the_lock(terraform, stage, moto, deployed):
    assert set(STACKS[:-1]) <= set(deployed), "upstream stacks were not applied"
    backend = _backend(LOCKED_STACK)
    lock_id = f"{backend['bucket']}/{backend['key']}"
    work = _prepare(stage, terraform, LOCKED_STACK)

    first = terraform.start_interactive_apply(work)
    first.wait_for_prompt()
    # The first apply has planned and now holds both locks while it waits for approval.
    lock_items = [i for i in moto.dynamodb_items(backend["region"], backend["dynamodb_table"]) if i["LockID"]["S"] == lock_id]
    assert lock_items, f"no DynamoDB lock item {lock_id} while an apply holds the lock"
    assert json.loads(lock_items[0]["Info"]["S"])["Operation"] == "OperationTypeApply"
    if backend.get("use_lockfile"):
        assert moto.s3_get(backend["region"], backend["bucket"], f"{backend['key']}.tflock") is not None

    started = time.monotonic()
    second = terraform(work, "apply", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=5s")
    assert second.returncode == 1
    assert "Error acquiring the state lock" in second.stderr
    assert time.monotonic() - started >= 5, "the second apply should have waited for -lock-timeout"

    assert first.approve() == 0, f"the first apply failed:\n{first.text[-4000:]}"
    assert "Apply complete!" in first.text
    deployed[LOCKED_STACK] = work
    state = _assert_state_in_bucket(moto, LOCKED_STACK)
    assert state["serial"] >= 1
    items = {i["LockID"]["S"]: i for i in moto.dynamodb_items(backend["region"], backend["dynamodb_table"])}
    assert lock_id not in items, "the lock was not released after the apply"
    if backend.get("use_lockfile"):
        assert moto.s3_get(backend["region"], backend["bucket"], f"{backend['key']}.tflock") is None


def test_4_second_plan_has_no_changes(terraform, deployed):
    assert set(STACKS) <= set(deployed), "not every stack was applied"
    for stack in STACKS:
        plan = terraform(deployed[stack], "plan", "-detailed-exitcode", "-input=false", "-no-color")
        assert plan.returncode == 0, f"{stack}: second plan is not clean (exit {plan.returncode}):\n{plan.stdout[-4000:]}{plan.stderr[-2000:]}"


def test_5_destroy(terraform, moto, deployed):
    assert set(STACKS) <= set(deployed), "not every stack was applied"
    for stack in reversed(STACKS):
        terraform.ok(deployed[stack], "destroy", "-auto-approve", "-input=false", "-no-color")
        state = _state(moto, stack)
        assert state is not None and state["resources"] == [], f"{stack}: resources left in state after destroy"
        del deployed[stack]


def _state(moto, stack: str) -> dict | None:
    backend = _backend(stack)
    raw = moto.s3_get(backend["region"], backend["bucket"], backend["key"])
    return None if raw is None else json.loads(raw)


def _assert_state_in_bucket(moto, stack: str) -> dict:
    backend = _backend(stack)
    state = _state(moto, stack)
    assert state is not None, f"{stack}: no state object s3://{backend['bucket']}/{backend['key']}"
    managed = [r for r in state["resources"] if r["mode"] == "managed"]
    assert managed, f"{stack}: the state in the bucket records no resource"
    # The S3 backend records each state's checksum in the lock table: proof the table was used.
    items = {i["LockID"]["S"]: i for i in moto.dynamodb_items(backend["region"], backend["dynamodb_table"])}
    assert f"{backend['bucket']}/{backend['key']}-md5" in items, f"{stack}: lock table has no digest item"
    return state

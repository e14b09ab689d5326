"""Helpers shared by construct tests that synthesize a construct in a one-stack app."""

from __future__ import annotations

import json

from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting


def synth(build) -> dict:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    build(stack)
    return json.loads(CdktfTesting.synth(stack))


def documents(out: dict) -> dict[str, dict]:
    return out["data"]["aws_iam_policy_document"]


def statement(doc: dict, sid: str) -> dict:
    return next(s for s in doc["statement"] if s.get("sid") == sid)

"""Guards: rules no stack may break, checked on every resource after synthesis (cdk-nag style).

:func:`install` puts a stack under the guards (``stacks/base.py`` and the
state-bootstrap stack do). After cdktf has synthesized the app,
:func:`check` (called by ``sophia_infra/synth.py`` before ``cdktf.out/`` is
replaced) judges each guarded stack's Terraform JSON, in Python, and raises one
:class:`ValidationError` listing every violation with its construct path (cdktf
writes each resource's path in its ``//`` metadata). Judging the output rather
than visiting the construct tree with an Aspect costs no call from Node into
Python per construct, and judges exactly what Terraform will be given.

The rules:

* ``untagged``: a taggable resource without a ``Component`` tag, or a stack whose
  AWS provider has no ``default_tags`` (the project-wide tags come from there);
* ``unencrypted``: S3 without a server-side encryption configuration; EBS, RDS,
  OpenSearch, DynamoDB, SNS, SQS, CloudWatch log groups without a KMS key;
  launch-template EBS volumes not encrypted;
* ``public-ingress``: an ingress rule whose sources cover more public address space
  than a /24 (IPv4) or a /48 (IPv6) (:mod:`constructs_lib.security.facts`), except HTTPS (443 only)
  into a security group built under a scope marked :func:`allow_public_https`
  (an internet-facing load balancer);
* ``imdsv1``: a launch template or instance without ``http_tokens = "required"``;
* ``public-s3``: a bucket without a public access block, or a block with any
  flag not ``true``, or a public canned ACL;
* ``deletion-protection``: where the environment requires it
  (``GuardOptions.require_database_deletion_protection``), an RDS instance or
  cluster without deletion protection, unless built under a scope marked
  :func:`mark_standby` (the inactive colour of a blue/green pair).

A construct that must break a rule because of an AWS limitation says so with
:func:`exempt` (scope, rule, reason); the reason is part of the code review.
Marks and options are kept by the stack they concern (``constructs_lib/stack_state.py``),
so two apps built in one process never share them.

A value that is still a Terraform expression after synthesis (e.g. a reference to
another resource) cannot be judged and passes: the rules are about literals the
code chose. The rules themselves are in ``constructs_lib/guard_rules.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cdktf import App, TerraformProvider, TerraformStack
from constructs import IConstruct

from constructs_lib import stack_state
from constructs_lib.errors import ValidationError
from constructs_lib.guard_rules import (
    StackJudge,
    Violation,
    default_tags_set,
    nested_blocks,
    provider_has_default_tags,
)

RULES = ("untagged", "unencrypted", "public-ingress", "imdsv1", "public-s3", "deletion-protection")


@dataclass(frozen=True)
class GuardOptions:
    """What the environment requires beyond the rules that hold everywhere."""

    require_database_deletion_protection: bool = True
    """RDS instances and clusters must have deletion protection (config ``resilience.deletion_protection``).
    Default: true."""


class GuardMarks:
    """A stack's guard options and the exemptions its constructs declared, by construct path prefix."""

    def __init__(self, stack: TerraformStack):
        self.options: GuardOptions | None = None
        """Set by :func:`install`; None: the stack is not guarded."""
        self.exemptions: dict[str, dict[str, str]] = {}  # rule -> {path: reason}
        self.public_https: dict[str, str] = {}  # path -> reason


def install(stack: TerraformStack, options: GuardOptions | None = None) -> None:
    """Put ``stack`` under the guards; :func:`check` judges it after synthesis."""
    stack_state.of(stack).part(GuardMarks).options = options or GuardOptions()


def exempt(scope: IConstruct, rule: str, reason: str) -> None:
    """Exempt resources under ``scope`` from one rule, for a reason a reviewer can check.

    For an AWS limitation, not a convenience: e.g. AWS Config cannot publish
    to a KMS-encrypted SNS topic.
    """
    if rule not in RULES:
        raise ValidationError(f"guards.exempt {scope.node.path}: rule must be one of {', '.join(RULES)}, got {rule!r}")
    if not reason.strip():
        raise ValidationError(f"guards.exempt {scope.node.path}: reason must not be empty")
    stack_state.of(scope).part(GuardMarks).exemptions.setdefault(rule, {})[scope.node.path] = reason


def mark_standby(scope: IConstruct, reason: str) -> None:
    """Exempt databases under ``scope`` from deletion protection (e.g. the inactive blue/green colour)."""
    exempt(scope, "deletion-protection", reason)


def allow_public_https(scope: IConstruct, reason: str) -> None:
    """Let security groups under ``scope`` admit the internet on TCP 443 only (a public load balancer)."""
    if not reason.strip():
        raise ValidationError(f"guards.allow_public_https {scope.node.path}: reason must not be empty")
    stack_state.of(scope).part(GuardMarks).public_https[scope.node.path] = reason


def violations(scope: IConstruct) -> list[Violation]:
    """Violations in the guarded stacks of ``scope``, judged on what cdktf synthesized.

    ``scope`` is an :class:`App` after ``app.synth()`` (its stacks are read from the
    app's output directory) or a single stack (its Terraform JSON is asked of cdktf,
    e.g. after ``Testing.synth``).
    """
    if isinstance(scope, TerraformStack):
        marks = _marks(scope)
        return _judge(scope, scope.to_terraform(), marks) if marks is not None and marks.options else []
    outdir = Path(App.of(scope).outdir)
    written = {
        entry["constructPath"]: outdir / entry["synthesizedStackPath"]
        for entry in json.loads((outdir / "manifest.json").read_text())["stacks"].values()
    }
    found: list[Violation] = []
    for stack in scope.node.children:
        if not isinstance(stack, TerraformStack):
            continue
        marks = _marks(stack)
        if marks is not None and marks.options:
            found += _judge(stack, json.loads(written[stack.node.path].read_text()), marks)
    return sorted(found)


def _marks(stack: TerraformStack) -> GuardMarks | None:
    state = stack_state.find(stack)
    return state.find_part(GuardMarks) if state is not None else None


def check(scope: IConstruct) -> None:
    """Raise :class:`ValidationError` naming every violation in the guarded stacks of ``scope``."""
    found = violations(scope)
    if found:
        lines = "\n  ".join(str(v) for v in found)
        raise ValidationError(f"guards: {len(found)} violation(s) of rules no stack may break:\n  {lines}")


def _judge(stack: TerraformStack, document: dict, marks: GuardMarks) -> list[Violation]:
    options = marks.options or GuardOptions()
    judge = StackJudge(options.require_database_deletion_protection, marks.exemptions, marks.public_https)
    for rtype, resources in (document.get("resource") or {}).items():
        for logical_id, config in resources.items():
            judge.resource(rtype, logical_id, config)
    if judge.taggable and not provider_has_default_tags(document):
        for path in _aws_providers_without_default_tags(stack):
            judge.add(path, "untagged", "the AWS provider has no default_tags (Project, Environment, ...)")
    return judge.finish()


def _aws_providers_without_default_tags(stack: TerraformStack) -> list[str]:
    """Construct paths of the stack's AWS providers that lack default tags (the JSON
    does not name them). Walks the tree: only when a violation is certain."""
    paths = []
    for node in stack.node.find_all():
        if isinstance(node, TerraformProvider) and node.terraform_resource_type == "aws":
            blocks = node.to_terraform().get("provider", {}).get("aws", [])
            if not all(default_tags_set(block) for block in nested_blocks(blocks)):
                paths.append(node.node.path)
    return paths

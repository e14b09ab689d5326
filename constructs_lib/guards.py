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
* ``public-ingress``: ``0.0.0.0/0`` or ``::/0`` ingress, except HTTPS (443 only)
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
code chose.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from cdktf import App, TerraformProvider, TerraformStack
from constructs import IConstruct

from constructs_lib import stack_state, tagging
from constructs_lib.errors import ValidationError

OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})

RULES = ("untagged", "unencrypted", "public-ingress", "imdsv1", "public-s3", "deletion-protection")


@dataclass(frozen=True)
class GuardOptions:
    """What the environment requires beyond the rules that hold everywhere."""

    require_database_deletion_protection: bool = True
    """RDS instances and clusters must have deletion protection (config ``resilience.deletion_protection``).
    Default: true."""


@dataclass(frozen=True, order=True)
class Violation:
    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: [{self.rule}] {self.message}"


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
    judge = _Judge(marks)
    for rtype, resources in (document.get("resource") or {}).items():
        for logical_id, config in resources.items():
            judge.resource(rtype, logical_id, config)
    if judge.taggable and not _provider_has_default_tags(document):
        for path in _aws_providers_without_default_tags(stack):
            judge.add(path, "untagged", "the AWS provider has no default_tags (Project, Environment, ...)")
    return judge.finish()


def _true(value) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _unresolved(value) -> bool:
    return isinstance(value, str) and ("${" in value or "TOKEN" in value)


def _blocks(value) -> list[dict]:
    """A nested block as cdktf writes it: one object, or a list of objects."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)]


def _block(value) -> dict:
    blocks = _blocks(value)
    return blocks[0] if blocks else {}


def _under(path: str, marks: dict[str, str]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in marks)


def _default_tags_set(provider_block: dict) -> bool:
    return any((b.get("tags") or {}) for b in _blocks(provider_block.get("default_tags")))


def _provider_has_default_tags(document: dict) -> bool:
    blocks = (document.get("provider") or {}).get("aws", [])
    return all(_default_tags_set(block) for block in _blocks(blocks))


def _aws_providers_without_default_tags(stack: TerraformStack) -> list[str]:
    """Construct paths of the stack's AWS providers that lack default tags (the JSON
    does not name them). Walks the tree: only when a violation is certain."""
    paths = []
    for node in stack.node.find_all():
        if isinstance(node, TerraformProvider) and node.terraform_resource_type == "aws":
            blocks = node.to_terraform().get("provider", {}).get("aws", [])
            if not all(_default_tags_set(block) for block in _blocks(blocks)):
                paths.append(node.node.path)
    return paths


_REFERENCE = re.compile(r"^\$\{(aws_s3_bucket\.[^.}]+)\.(?:id|bucket)\}$")


class _Judge:
    """The rules, applied to one stack's resources as cdktf synthesized them."""

    def __init__(self, marks: GuardMarks):
        self.marks = marks
        self.options: GuardOptions = marks.options or GuardOptions()
        self.violations: set[Violation] = set()
        self.taggable = False
        # S3: bucket address -> (path, bucket name literal), and what covers each bucket.
        self.buckets: dict[str, tuple[str, object]] = {}
        self.bucket_refs: dict[str, set[str]] = {"encryption": set(), "public_access_block": set()}

    def resource(self, rtype: str, logical_id: str, config: dict) -> None:
        check = _RULES.get(rtype)
        taggable = tagging.is_taggable_type(rtype)
        if check is None and not taggable:
            return
        path = config["//"]["metadata"]["path"]
        if taggable:
            self.taggable = True
            tags = config.get("tags")
            if not isinstance(tags, dict) or "Component" not in tags:
                self.add(path, "untagged", f"{rtype} has no Component tag (call tagging.set_component / tagging.apply)")
        if check is not None:
            check(self, rtype, f"{rtype}.{logical_id}", path, config)

    def add(self, path: str, rule: str, message: str) -> None:
        if not _under(path, self.marks.exemptions.get(rule, {})):
            self.violations.add(Violation(path, rule, message))

    def finish(self) -> list[Violation]:
        for address, (path, name) in self.buckets.items():
            covered = {address, f"literal:{name}"}
            if not covered & self.bucket_refs["encryption"]:
                self.add(path, "unencrypted", "aws_s3_bucket has no server-side encryption configuration")
            if not covered & self.bucket_refs["public_access_block"]:
                self.add(path, "public-s3", "aws_s3_bucket has no aws_s3_bucket_public_access_block")
        return sorted(self.violations)

    # --- Rules ------------------------------------------------------------------------

    def _require_kms(self, path: str, rtype: str, value, attribute: str) -> None:
        if value is None or value == "":
            self.add(path, "unencrypted", f"{rtype} has no {attribute} (encrypt it with a customer-managed KMS key)")

    def _s3_bucket(self, rtype, address, path, config) -> None:
        self.buckets[address] = (path, config.get("bucket"))
        if _block(config.get("server_side_encryption_configuration")):
            self.bucket_refs["encryption"].add(address)
        if config.get("acl") in ("public-read", "public-read-write", "authenticated-read"):
            self.add(path, "public-s3", f"aws_s3_bucket has the public canned ACL {config['acl']!r}")

    @staticmethod
    def _bucket_reference(config) -> str | None:
        value = config.get("bucket")
        if value is None:
            return None
        match = _REFERENCE.match(str(value))
        if match:
            return match.group(1)
        return f"literal:{value}"

    def _s3_encryption(self, rtype, address, path, config) -> None:
        if ref := self._bucket_reference(config):
            self.bucket_refs["encryption"].add(ref)

    def _s3_public_access_block(self, rtype, address, path, config) -> None:
        if ref := self._bucket_reference(config):
            self.bucket_refs["public_access_block"].add(ref)
        flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        off = [f for f in flags if not _unresolved(config.get(f)) and not _true(config.get(f))]
        if off:
            self.add(path, "public-s3", f"aws_s3_bucket_public_access_block leaves {', '.join(off)} off")

    def _s3_acl(self, rtype, address, path, config) -> None:
        if config.get("acl") in ("public-read", "public-read-write", "authenticated-read"):
            self.add(path, "public-s3", f"aws_s3_bucket_acl grants the public canned ACL {config['acl']!r}")

    def _ebs_volume(self, rtype, address, path, config) -> None:
        if not _unresolved(config.get("encrypted")) and not _true(config.get("encrypted")):
            self.add(path, "unencrypted", "aws_ebs_volume is not encrypted")
        self._require_kms(path, "aws_ebs_volume", config.get("kms_key_id"), "kms_key_id")

    def _launch_template(self, rtype, address, path, config) -> None:
        metadata = _block(config.get("metadata_options"))
        if metadata.get("http_tokens") != "required" and not _unresolved(metadata.get("http_tokens")):
            self.add(path, "imdsv1", 'aws_launch_template allows IMDSv1 (set metadata_options.http_tokens = "required")')
        for mapping in _blocks(config.get("block_device_mappings")):
            ebs = _block(mapping.get("ebs"))
            if ebs and not _unresolved(ebs.get("encrypted")) and not _true(ebs.get("encrypted")):
                self.add(path, "unencrypted", f"aws_launch_template volume {mapping.get('device_name')} is not encrypted")

    def _instance(self, rtype, address, path, config) -> None:
        metadata = _block(config.get("metadata_options"))
        if metadata.get("http_tokens") != "required" and not _unresolved(metadata.get("http_tokens")):
            self.add(path, "imdsv1", 'aws_instance allows IMDSv1 (set metadata_options.http_tokens = "required")')

    def _database(self, rtype, address, path, config) -> None:
        encrypted = config.get("storage_encrypted")
        if not _unresolved(encrypted) and not _true(encrypted):
            self.add(path, "unencrypted", f"{rtype} has storage_encrypted off")
        self._require_kms(path, rtype, config.get("kms_key_id"), "kms_key_id")
        protected = config.get("deletion_protection")
        if (
            self.options.require_database_deletion_protection
            and not _unresolved(protected)
            and not _true(protected)
        ):
            self.add(
                path,
                "deletion-protection",
                f"{rtype} has no deletion protection, which this environment requires "
                "(mark an inactive blue/green colour with guards.mark_standby)",
            )

    def _opensearch(self, rtype, address, path, config) -> None:
        at_rest = _block(config.get("encrypt_at_rest"))
        if not _unresolved(at_rest.get("enabled")) and not _true(at_rest.get("enabled")):
            self.add(path, "unencrypted", "aws_opensearch_domain has encrypt_at_rest off")
        self._require_kms(path, "aws_opensearch_domain", at_rest.get("kms_key_id"), "encrypt_at_rest.kms_key_id")

    def _dynamodb(self, rtype, address, path, config) -> None:
        sse = _block(config.get("server_side_encryption"))
        if not _unresolved(sse.get("enabled")) and not _true(sse.get("enabled")):
            self.add(path, "unencrypted", "aws_dynamodb_table has server_side_encryption off (AWS-owned key)")
        self._require_kms(path, "aws_dynamodb_table", sse.get("kms_key_arn"), "server_side_encryption.kms_key_arn")

    def _sqs(self, rtype, address, path, config) -> None:
        if not config.get("kms_master_key_id") and not _true(config.get("sqs_managed_sse_enabled")):
            self.add(path, "unencrypted", "aws_sqs_queue has neither kms_master_key_id nor SSE-SQS")

    def _security_group(self, rtype, address, path, config) -> None:
        for rule in _blocks(config.get("ingress")):
            self._ingress(path, "aws_security_group", rule.get("cidr_blocks"), rule.get("ipv6_cidr_blocks"), rule)

    def _security_group_rule(self, rtype, address, path, config) -> None:
        if config.get("type") == "ingress":
            self._ingress(path, "aws_security_group_rule", config.get("cidr_blocks"), config.get("ipv6_cidr_blocks"), config)

    def _ingress_rule(self, rtype, address, path, config) -> None:
        self._ingress(
            path, "aws_vpc_security_group_ingress_rule", [config.get("cidr_ipv4")], [config.get("cidr_ipv6")], config
        )

    def _ingress(self, path, rtype, ipv4, ipv6, rule) -> None:
        # A list given as one token (e.g. from another stack) is a string: it cannot be judged.
        listed = [*(ipv4 if isinstance(ipv4, list) else []), *(ipv6 if isinstance(ipv6, list) else [])]
        cidrs = {c for c in listed if isinstance(c, str)}
        open_to = sorted(cidrs & OPEN_CIDRS)
        if not open_to:
            return
        https_only = rule.get("from_port") in (443, "443") and rule.get("to_port") in (443, "443")
        https_only = https_only and str(rule.get("protocol", rule.get("ip_protocol"))).lower() in ("tcp", "6")
        if https_only and _under(path, self.marks.public_https):
            return
        ports = f"{rule.get('from_port')}-{rule.get('to_port')}/{rule.get('protocol', rule.get('ip_protocol'))}"
        self.add(
            path,
            "public-ingress",
            f"{rtype} admits {', '.join(open_to)} on {ports}; only TCP 443 into a load balancer marked "
            "guards.allow_public_https may be open to the internet",
        )


def _kms_rule(attribute: str):
    def rule(judge: _Judge, rtype, address, path, config) -> None:
        judge._require_kms(path, rtype, config.get(attribute), attribute)

    return rule


_RULES = {
    "aws_s3_bucket": _Judge._s3_bucket,
    "aws_s3_bucket_server_side_encryption_configuration": _Judge._s3_encryption,
    "aws_s3_bucket_public_access_block": _Judge._s3_public_access_block,
    "aws_s3_bucket_acl": _Judge._s3_acl,
    "aws_ebs_volume": _Judge._ebs_volume,
    "aws_launch_template": _Judge._launch_template,
    "aws_instance": _Judge._instance,
    "aws_db_instance": _Judge._database,
    "aws_rds_cluster": _Judge._database,
    "aws_opensearch_domain": _Judge._opensearch,
    "aws_dynamodb_table": _Judge._dynamodb,
    "aws_sns_topic": _kms_rule("kms_master_key_id"),
    "aws_cloudwatch_log_group": _kms_rule("kms_key_id"),
    "aws_sqs_queue": _Judge._sqs,
    "aws_security_group": _Judge._security_group,
    "aws_security_group_rule": _Judge._security_group_rule,
    "aws_vpc_security_group_ingress_rule": _Judge._ingress_rule,
}

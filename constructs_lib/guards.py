"""Guards: rules no stack may break, checked on every resource at synthesis (cdk-nag style).

:func:`install` adds a :class:`Guards` Aspect to a stack (``stacks/base.py`` and
the state-bootstrap stack do). The Aspect records violations while cdktf visits
the tree; :func:`check` (called by ``sophia_infra/synth.py`` after ``app.synth()``
and before ``cdktf.out/`` is replaced) raises one :class:`ValidationError`
listing every violation with its construct path. Violations are collected, not
raised inside the Aspect, because jsii turns an exception raised in a Python
callback into a bare ``RuntimeError`` and synthesis would stop at the first one.

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

A value that is still a Terraform expression at synthesis (e.g. a reference to
another resource) cannot be judged and passes: the rules are about literals the
code chose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jsii
from cdktf import (
    App,
    DefaultTokenResolver,
    IAspect,
    StringConcat,
    TerraformProvider,
    TerraformResource,
    TerraformStack,
    Tokenization,
)
from constructs import IConstruct

from constructs_lib import tagging
from constructs_lib.errors import ValidationError
from constructs_lib.security import facts

RULES = ("untagged", "unencrypted", "public-ingress", "imdsv1", "public-s3", "deletion-protection")

# Construct path prefixes marked by constructs, with the reason they gave.
_exemptions: dict[str, dict[str, str]] = {}  # rule -> {path: reason}
_public_https: dict[str, str] = {}
_active: list[Guards] = []


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


def exempt(scope: IConstruct, rule: str, reason: str) -> None:
    """Exempt resources under ``scope`` from one rule, for a reason a reviewer can check.

    For an AWS limitation, not a convenience: e.g. AWS Config cannot publish
    to a KMS-encrypted SNS topic.
    """
    if rule not in RULES:
        raise ValidationError(f"guards.exempt {scope.node.path}: rule must be one of {', '.join(RULES)}, got {rule!r}")
    if not reason.strip():
        raise ValidationError(f"guards.exempt {scope.node.path}: reason must not be empty")
    _exemptions.setdefault(rule, {})[scope.node.path] = reason


def mark_standby(scope: IConstruct, reason: str) -> None:
    """Exempt databases under ``scope`` from deletion protection (e.g. the inactive blue/green colour)."""
    exempt(scope, "deletion-protection", reason)


def allow_public_https(scope: IConstruct, reason: str) -> None:
    """Let security groups under ``scope`` admit the internet on TCP 443 only (a public load balancer)."""
    if not reason.strip():
        raise ValidationError(f"guards.allow_public_https {scope.node.path}: reason must not be empty")
    _public_https[scope.node.path] = reason


def _under(path: str, marks: dict[str, str]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in marks)


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


_REFERENCE = re.compile(r"^\$\{(aws_s3_bucket\.[^.}]+)\.(?:id|bucket)\}$")


@jsii.implements(IAspect)
class Guards:
    """The Aspect; one per stack. Use :func:`install`, then :func:`check`."""

    def __init__(self, stack: TerraformStack, options: GuardOptions):
        self.stack = stack
        self.options = options
        self.outdir = App.of(stack).outdir
        self.violations: set[Violation] = set()
        self.providers_without_default_tags: set[str] = set()
        self.taggable: set[str] = set()
        # S3: bucket address -> (path, bucket name literal), and what covers each bucket.
        self.buckets: dict[str, tuple[str, object]] = {}
        self.bucket_refs: dict[str, set[str]] = {"encryption": set(), "public_access_block": set()}
        self.finalized = False

    # --- Aspect -----------------------------------------------------------------------

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, TerraformProvider):
            self._visit_provider(node)
            return
        if not isinstance(node, TerraformResource):
            return
        rtype = node.terraform_resource_type
        check = _RULES.get(rtype)
        taggable = tagging.is_taggable(node)
        if check is None and not taggable:
            return
        config = node.to_terraform().get("resource", {}).get(rtype, {})
        config = next(iter(config.values()), {}) if config else {}
        path = node.node.path
        if taggable:
            self.taggable.add(path)
            if "Component" not in (config.get("tags") or {}):
                self._add(path, "untagged", f"{rtype} has no Component tag (call tagging.set_component / tagging.apply)")
        if check is not None:
            check(self, node, path, config)

    def _visit_provider(self, provider: TerraformProvider) -> None:
        if provider.terraform_resource_type != "aws":
            return
        blocks = provider.to_terraform().get("provider", {}).get("aws", [])
        for block in blocks if isinstance(blocks, list) else [blocks]:
            if not any((b.get("tags") or {}) for b in _blocks(block.get("default_tags"))):
                self.providers_without_default_tags.add(provider.node.path)

    # --- Rules ------------------------------------------------------------------------

    def _add(self, path: str, rule: str, message: str) -> None:
        if not _under(path, _exemptions.get(rule, {})):
            self.violations.add(Violation(path, rule, message))

    def _require_kms(self, path: str, rtype: str, value, attribute: str) -> None:
        if value is None or value == "":
            self._add(path, "unencrypted", f"{rtype} has no {attribute} (encrypt it with a customer-managed KMS key)")

    def _s3_bucket(self, node, path, config) -> None:
        address = f"aws_s3_bucket.{node.friendly_unique_id}"
        self.buckets[address] = (path, config.get("bucket"))
        if _block(config.get("server_side_encryption_configuration")):
            self.bucket_refs["encryption"].add(address)
        if config.get("acl") in ("public-read", "public-read-write", "authenticated-read"):
            self._add(path, "public-s3", f"aws_s3_bucket has the public canned ACL {config['acl']!r}")

    def _bucket_reference(self, node, config) -> str | None:
        value = config.get("bucket")
        if value is None:
            return None
        if _unresolved(value):
            value = Tokenization.resolve(value, resolver=DefaultTokenResolver(StringConcat()), scope=node)
        resolved = value
        match = _REFERENCE.match(str(resolved))
        if match:
            return match.group(1)
        return f"literal:{resolved}"

    def _s3_encryption(self, node, path, config) -> None:
        if ref := self._bucket_reference(node, config):
            self.bucket_refs["encryption"].add(ref)

    def _s3_public_access_block(self, node, path, config) -> None:
        if ref := self._bucket_reference(node, config):
            self.bucket_refs["public_access_block"].add(ref)
        flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        off = [f for f in flags if not _unresolved(config.get(f)) and not _true(config.get(f))]
        if off:
            self._add(path, "public-s3", f"aws_s3_bucket_public_access_block leaves {', '.join(off)} off")

    def _s3_acl(self, node, path, config) -> None:
        if config.get("acl") in ("public-read", "public-read-write", "authenticated-read"):
            self._add(path, "public-s3", f"aws_s3_bucket_acl grants the public canned ACL {config['acl']!r}")

    def _ebs_volume(self, node, path, config) -> None:
        if not _unresolved(config.get("encrypted")) and not _true(config.get("encrypted")):
            self._add(path, "unencrypted", "aws_ebs_volume is not encrypted")
        self._require_kms(path, "aws_ebs_volume", config.get("kms_key_id"), "kms_key_id")

    def _launch_template(self, node, path, config) -> None:
        metadata = _block(config.get("metadata_options"))
        if metadata.get("http_tokens") != "required" and not _unresolved(metadata.get("http_tokens")):
            self._add(path, "imdsv1", 'aws_launch_template allows IMDSv1 (set metadata_options.http_tokens = "required")')
        for mapping in _blocks(config.get("block_device_mappings")):
            ebs = _block(mapping.get("ebs"))
            if ebs and not _unresolved(ebs.get("encrypted")) and not _true(ebs.get("encrypted")):
                self._add(path, "unencrypted", f"aws_launch_template volume {mapping.get('device_name')} is not encrypted")

    def _instance(self, node, path, config) -> None:
        metadata = _block(config.get("metadata_options"))
        if metadata.get("http_tokens") != "required" and not _unresolved(metadata.get("http_tokens")):
            self._add(path, "imdsv1", 'aws_instance allows IMDSv1 (set metadata_options.http_tokens = "required")')

    def _database(self, node, path, config) -> None:
        rtype = node.terraform_resource_type
        encrypted = config.get("storage_encrypted")
        if not _unresolved(encrypted) and not _true(encrypted):
            self._add(path, "unencrypted", f"{rtype} has storage_encrypted off")
        self._require_kms(path, rtype, config.get("kms_key_id"), "kms_key_id")
        protected = config.get("deletion_protection")
        if (
            self.options.require_database_deletion_protection
            and not _unresolved(protected)
            and not _true(protected)
        ):
            self._add(
                path,
                "deletion-protection",
                f"{rtype} has no deletion protection, which this environment requires "
                "(mark an inactive blue/green colour with guards.mark_standby)",
            )

    def _opensearch(self, node, path, config) -> None:
        at_rest = _block(config.get("encrypt_at_rest"))
        if not _unresolved(at_rest.get("enabled")) and not _true(at_rest.get("enabled")):
            self._add(path, "unencrypted", "aws_opensearch_domain has encrypt_at_rest off")
        self._require_kms(path, "aws_opensearch_domain", at_rest.get("kms_key_id"), "encrypt_at_rest.kms_key_id")

    def _dynamodb(self, node, path, config) -> None:
        sse = _block(config.get("server_side_encryption"))
        if not _unresolved(sse.get("enabled")) and not _true(sse.get("enabled")):
            self._add(path, "unencrypted", "aws_dynamodb_table has server_side_encryption off (AWS-owned key)")
        self._require_kms(path, "aws_dynamodb_table", sse.get("kms_key_arn"), "server_side_encryption.kms_key_arn")

    def _sqs(self, node, path, config) -> None:
        if not config.get("kms_master_key_id") and not _true(config.get("sqs_managed_sse_enabled")):
            self._add(path, "unencrypted", "aws_sqs_queue has neither kms_master_key_id nor SSE-SQS")

    def _security_group(self, node, path, config) -> None:
        for rule in _blocks(config.get("ingress")):
            self._ingress(path, "aws_security_group", rule.get("cidr_blocks"), rule.get("ipv6_cidr_blocks"), rule)

    def _security_group_rule(self, node, path, config) -> None:
        if config.get("type") == "ingress":
            self._ingress(path, "aws_security_group_rule", config.get("cidr_blocks"), config.get("ipv6_cidr_blocks"), config)

    def _ingress_rule(self, node, path, config) -> None:
        self._ingress(
            path, "aws_vpc_security_group_ingress_rule", [config.get("cidr_ipv4")], [config.get("cidr_ipv6")], config
        )

    def _ingress(self, path, rtype, ipv4, ipv6, rule) -> None:
        # Judged on address space (constructs_lib.security.facts): the union of the rule's
        # sources, however it is spelled (0.0.0.0/1 + 128.0.0.0/1 is the internet). A list
        # given as one token (e.g. from another stack) is a reference: it cannot be judged.
        listed = [*(ipv4 if isinstance(ipv4, list) else []), *(ipv6 if isinstance(ipv6, list) else [])]
        found = facts.exposure(listed)
        if not found.too_broad:
            return
        https_only = rule.get("from_port") in (443, "443") and rule.get("to_port") in (443, "443")
        https_only = https_only and str(rule.get("protocol", rule.get("ip_protocol"))).lower() in ("tcp", "6")
        if https_only and _under(path, _public_https):
            return
        ports = f"{rule.get('from_port')}-{rule.get('to_port')}/{rule.get('protocol', rule.get('ip_protocol'))}"
        self._add(
            path,
            "public-ingress",
            f"{rtype} admits {', '.join(found.sources)} on {ports}: {found.describe()}; only TCP 443 into a "
            "load balancer marked guards.allow_public_https may be open to the internet",
        )

    # --- After the visit --------------------------------------------------------------

    def finalize(self) -> list[Violation]:
        if not self.finalized:
            self.finalized = True
            if self.taggable:
                for provider in sorted(self.providers_without_default_tags):
                    self._add(provider, "untagged", "the AWS provider has no default_tags (Project, Environment, ...)")
            for address, (path, name) in self.buckets.items():
                covered = {address, f"literal:{name}"}
                if not covered & self.bucket_refs["encryption"]:
                    self._add(path, "unencrypted", "aws_s3_bucket has no server-side encryption configuration")
                if not covered & self.bucket_refs["public_access_block"]:
                    self._add(path, "public-s3", "aws_s3_bucket has no aws_s3_bucket_public_access_block")
        return sorted(self.violations)


def _kms_rule(attribute: str):
    def rule(guards: Guards, node, path, config) -> None:
        guards._require_kms(path, node.terraform_resource_type, config.get(attribute), attribute)

    return rule


_RULES = {
    "aws_s3_bucket": Guards._s3_bucket,
    "aws_s3_bucket_server_side_encryption_configuration": Guards._s3_encryption,
    "aws_s3_bucket_public_access_block": Guards._s3_public_access_block,
    "aws_s3_bucket_acl": Guards._s3_acl,
    "aws_ebs_volume": Guards._ebs_volume,
    "aws_launch_template": Guards._launch_template,
    "aws_instance": Guards._instance,
    "aws_db_instance": Guards._database,
    "aws_rds_cluster": Guards._database,
    "aws_opensearch_domain": Guards._opensearch,
    "aws_dynamodb_table": Guards._dynamodb,
    "aws_sns_topic": _kms_rule("kms_master_key_id"),
    "aws_cloudwatch_log_group": _kms_rule("kms_key_id"),
    "aws_sqs_queue": Guards._sqs,
    "aws_security_group": Guards._security_group,
    "aws_security_group_rule": Guards._security_group_rule,
    "aws_vpc_security_group_ingress_rule": Guards._ingress_rule,
}


def install(stack: TerraformStack, options: GuardOptions | None = None) -> Guards:
    """Add the guards to ``stack``; add them after ``tagging.apply`` so they see its tags."""
    from cdktf import Aspects

    guards = Guards(stack, options or GuardOptions())
    Aspects.of(stack).add(guards)
    _active.append(guards)
    return guards


def violations(scope: IConstruct | None = None) -> list[Violation]:
    """Violations found by the guards of ``scope``'s app (every app if None) in the last synthesis."""
    outdir = App.of(scope).outdir if scope is not None else None
    found: list[Violation] = []
    for guards in _active:
        if outdir is None or guards.outdir == outdir:
            found += guards.finalize()
    return sorted(set(found))


def check(scope: IConstruct | None = None) -> None:
    """Raise :class:`ValidationError` naming every violation; forget the checked guards either way."""
    found = violations(scope)
    outdir = App.of(scope).outdir if scope is not None else None
    _active[:] = [g for g in _active if outdir is not None and g.outdir != outdir]
    if found:
        lines = "\n  ".join(str(v) for v in found)
        raise ValidationError(f"guards: {len(found)} violation(s) of rules no stack may break:\n  {lines}")

"""The guards' rules, applied to one stack's Terraform JSON as cdktf synthesized it.

``constructs_lib/guards.py`` describes the rules, keeps the marks and exemptions, and
runs :class:`StackJudge` over each guarded stack. Every resource's construct path
comes from the ``//`` metadata cdktf writes into it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from constructs_lib import tagging
from constructs_lib.security import facts
from constructs_lib.security.facts import nested_blocks


@dataclass(frozen=True, order=True)
class Violation:
    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: [{self.rule}] {self.message}"


def _true(value) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _unresolved(value) -> bool:
    return isinstance(value, str) and ("${" in value or "TOKEN" in value)


def _block(value) -> dict:
    blocks = nested_blocks(value)
    return blocks[0] if blocks else {}


def _under(path: str, marks: dict[str, str]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in marks)


def default_tags_set(provider_block: dict) -> bool:
    """Whether an AWS provider block has non-empty ``default_tags``."""
    return any((b.get("tags") or {}) for b in nested_blocks(provider_block.get("default_tags")))


def provider_has_default_tags(document: dict) -> bool:
    """Whether every AWS provider block of a stack's JSON has non-empty ``default_tags``."""
    blocks = (document.get("provider") or {}).get("aws", [])
    return all(default_tags_set(block) for block in nested_blocks(blocks))


_REFERENCE = re.compile(r"^\$\{(aws_s3_bucket\.[^.}]+)\.(?:id|bucket)\}$")


class StackJudge:
    """The rules, applied to one stack's resources; :meth:`resource` each, then :meth:`finish`."""

    def __init__(self, require_deletion_protection: bool, exemptions: dict[str, dict[str, str]], public_https: dict[str, str]):
        self.require_deletion_protection = require_deletion_protection
        self.exemptions = exemptions  # rule -> {construct path prefix: reason}
        self.public_https = public_https  # construct path prefix -> reason
        self.violations: set[Violation] = set()
        self.taggable = False
        # S3: bucket address -> (path, bucket name literal), and what covers each bucket.
        self.buckets: dict[str, tuple[str, object]] = {}
        self.bucket_refs: dict[str, set[str]] = {"encryption": set(), "public_access_block": set()}
        # Ingress sources by security group (as written), to judge their union in finish().
        self.ingress_groups: dict[str, list[tuple[str, tuple[str, ...], bool]]] = {}

    def resource(self, rtype: str, logical_id: str, config: dict) -> None:
        check = _RULES.get(rtype)
        taggable = tagging.is_taggable_type(rtype)
        if check is None and not taggable:
            return
        address = f"{rtype}.{logical_id}"
        # A resource written by an escape hatch (an override) has no construct and no path.
        path = ((config.get("//") or {}).get("metadata") or {}).get("path") or address
        if taggable:
            self.taggable = True
            tags = config.get("tags")
            if not isinstance(tags, dict) or "Component" not in tags:
                self.add(path, "untagged", f"{rtype} has no Component tag (call tagging.set_component / tagging.apply)")
        if check is not None:
            check(self, rtype, address, path, config)

    def add(self, path: str, rule: str, message: str) -> None:
        if not _under(path, self.exemptions.get(rule, {})):
            self.violations.add(Violation(path, rule, message))

    def finish(self) -> list[Violation]:
        # Rules each within the bound can add up to the internet (256 rules of one /24 each).
        for group, members in sorted(self.ingress_groups.items()):
            union = facts.exposure(source for _, sources, _ in members for source in sources)
            if union.too_broad and not any(flagged for _, _, flagged in members):
                self.add(
                    members[0][0],
                    "public-ingress",
                    f"the {len(members)} ingress rules of {group} together admit {', '.join(union.sources)}: "
                    f"{union.describe()}",
                )
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
        for mapping in nested_blocks(config.get("block_device_mappings")):
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
            self.require_deletion_protection
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

    def _ingress_resource(self, rtype, address, path, config) -> None:
        group, rules = facts.ingress_rules(rtype, address, config)
        for rule in rules:
            self._ingress(path, rtype, rule, group)

    def _ingress(self, path, rtype, rule, group: str) -> None:
        # Judged on address space (constructs_lib.security.facts, shared with the review):
        # the union of the rule's sources, however it is spelled (0.0.0.0/1 + 128.0.0.0/1
        # is the internet). A list given as one token (e.g. from another stack) is a
        # reference: it cannot be judged.
        found = facts.rule_exposure(rule)
        https_only = rule.get("from_port") in (443, "443") and rule.get("to_port") in (443, "443")
        https_only = https_only and str(rule.get("protocol", rule.get("ip_protocol"))).lower() in ("tcp", "6")
        if https_only and _under(path, self.public_https):
            return  # a public load balancer's HTTPS: allowed, and left out of its group's union
        self.ingress_groups.setdefault(group, []).append((path, found.sources, found.too_broad))
        if not found.too_broad:
            return
        ports = f"{rule.get('from_port')}-{rule.get('to_port')}/{rule.get('protocol', rule.get('ip_protocol'))}"
        self.add(
            path,
            "public-ingress",
            f"{rtype} admits {', '.join(found.sources)} on {ports}: {found.describe()}; only TCP 443 into a "
            "load balancer marked guards.allow_public_https may be open to the internet",
        )


def _kms_rule(attribute: str):
    def rule(judge: StackJudge, rtype, address, path, config) -> None:
        judge._require_kms(path, rtype, config.get(attribute), attribute)

    return rule


_RULES = {
    "aws_s3_bucket": StackJudge._s3_bucket,
    "aws_s3_bucket_server_side_encryption_configuration": StackJudge._s3_encryption,
    "aws_s3_bucket_public_access_block": StackJudge._s3_public_access_block,
    "aws_s3_bucket_acl": StackJudge._s3_acl,
    "aws_ebs_volume": StackJudge._ebs_volume,
    "aws_launch_template": StackJudge._launch_template,
    "aws_instance": StackJudge._instance,
    "aws_db_instance": StackJudge._database,
    "aws_rds_cluster": StackJudge._database,
    "aws_opensearch_domain": StackJudge._opensearch,
    "aws_dynamodb_table": StackJudge._dynamodb,
    "aws_sns_topic": _kms_rule("kms_master_key_id"),
    "aws_cloudwatch_log_group": _kms_rule("kms_key_id"),
    "aws_sqs_queue": StackJudge._sqs,
    **dict.fromkeys(facts.INGRESS_RESOURCE_TYPES, StackJudge._ingress_resource),
}

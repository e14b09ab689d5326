"""Review a change by comparing two synthesized ``cdktf.out/`` directories.

``cdktf diff`` needs credentials, deployed upstream state and a Terraform run per
stack; a pull-request reviewer needs an account of the change that works on any
runner, offline, in seconds. This module reads two synthesized outputs (the base
branch's and the change's) and reports, deterministically:

* per stack, the resources added, changed, replaced, removed and imported;
* per changed resource, the attributes that changed (old -> new); JSON-string
  values (policies, dashboards) are parsed and diffed structurally, token
  references (``${aws_vpc.main.id}``) are shown as they are;
* risk flags with their reasons (see :data:`RISK_CATEGORIES`);
* the stack graph of ``manifest.json`` as Mermaid, changed stacks highlighted, and
  the deploy waves of the changed stacks and of what depends on them.

Usage::

    python -m sophia_infra.review BASE_OUT HEAD_OUT [--format markdown|json]
    python -m sophia_infra.review --base-ref origin/main [--head-out cdktf.out]

The second form synthesizes the base ref in a temporary ``git worktree`` (and
the working tree, unless ``--head-out`` names an existing output) first.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------
# What the review knows about AWS resource types.

STATEFUL_TYPES = frozenset(
    {
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_rds_global_cluster",
        "aws_s3_bucket",
        "aws_dynamodb_table",
        "aws_opensearch_domain",
        "aws_elasticsearch_domain",
        "aws_eks_cluster",
        "aws_kms_key",
        "aws_efs_file_system",
        "aws_elasticache_replication_group",
        "aws_elasticache_cluster",
        "aws_ecr_repository",
        "aws_secretsmanager_secret",
        "aws_ebs_volume",
        "aws_backup_vault",
    }
)
"""Resource types whose destruction loses data (or, for keys, the data they encrypt)."""

FORCE_NEW: dict[str, frozenset[str]] = {
    # Attributes whose change makes Terraform destroy and re-create the resource
    # (ForceNew in the hashicorp/aws provider schema). Nested attributes are dotted.
    "aws_db_instance": frozenset(
        {"identifier", "identifier_prefix", "engine", "kms_key_id", "storage_encrypted", "username", "character_set_name", "availability_zone"}
    ),
    "aws_rds_cluster": frozenset(
        {"cluster_identifier", "cluster_identifier_prefix", "engine", "kms_key_id", "storage_encrypted", "database_name", "master_username", "availability_zones"}
    ),
    "aws_rds_cluster_instance": frozenset({"identifier", "cluster_identifier", "engine"}),
    "aws_s3_bucket": frozenset({"bucket", "bucket_prefix", "object_lock_enabled"}),
    "aws_dynamodb_table": frozenset({"name", "hash_key", "range_key"}),
    "aws_opensearch_domain": frozenset({"domain_name"}),
    "aws_elasticsearch_domain": frozenset({"domain_name"}),
    "aws_eks_cluster": frozenset({"name", "vpc_config.subnet_ids", "encryption_config.provider.key_arn", "kubernetes_network_config.service_ipv4_cidr"}),
    "aws_eks_node_group": frozenset({"cluster_name", "node_group_name", "subnet_ids", "ami_type", "capacity_type", "disk_size", "instance_types", "node_role_arn"}),
    "aws_kms_key": frozenset({"customer_master_key_spec", "key_usage", "multi_region", "xks_key_id", "custom_key_store_id"}),
    "aws_efs_file_system": frozenset({"creation_token", "encrypted", "kms_key_id", "performance_mode"}),
    "aws_elasticache_replication_group": frozenset({"replication_group_id", "at_rest_encryption_enabled", "kms_key_id", "subnet_group_name"}),
    "aws_elasticache_cluster": frozenset({"cluster_id", "engine", "subnet_group_name"}),
    "aws_ecr_repository": frozenset({"name"}),
    "aws_secretsmanager_secret": frozenset({"name", "name_prefix"}),
    "aws_ebs_volume": frozenset({"availability_zone", "encrypted", "kms_key_id", "snapshot_id"}),
    "aws_backup_vault": frozenset({"name", "kms_key_arn"}),
    "aws_sqs_queue": frozenset({"name", "fifo_queue"}),
    "aws_cloudwatch_log_group": frozenset({"name", "name_prefix"}),
    "aws_vpc": frozenset({"cidr_block", "instance_tenancy"}),
    "aws_subnet": frozenset({"vpc_id", "cidr_block", "availability_zone", "availability_zone_id"}),
    "aws_security_group": frozenset({"name", "name_prefix", "vpc_id", "description"}),
    "aws_iam_role": frozenset({"name", "name_prefix", "path"}),
}

PROTECTION_FLAGS = frozenset(
    {"deletion_protection", "deletion_protection_enabled", "enable_deletion_protection", "prevent_destroy", "termination_protection", "disable_api_termination"}
)
"""Attributes that protect a resource while true."""

DESTRUCTIVE_FLAGS = frozenset({"force_destroy", "skip_final_snapshot"})
"""Attributes that make destruction easier (or lose the last snapshot) while true."""

ENCRYPTION_RESOURCE_TYPES = frozenset(
    {"aws_s3_bucket_server_side_encryption_configuration", "aws_ebs_encryption_by_default"}
)
_ENCRYPTION_WORDS = ("encrypt", "kms", "sse", "tls", "https")
_OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
_BROAD_MANAGED_POLICY = re.compile(r"(AdministratorAccess|PowerUserAccess|FullAccess)$")
_POLICY_ATTACHMENT_TYPES = frozenset(
    {"aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment", "aws_iam_policy_attachment"}
)
_TOKEN_REF = re.compile(r"\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+|data\.[a-z0-9_]+\.[A-Za-z0-9_-]+)[.}]")

RISK_CATEGORIES = {
    "stateful-removed": "a stateful resource is destroyed",
    "stateful-replaced": "a stateful resource is destroyed and re-created",
    "protection-off": "deletion protection turned off",
    "encryption-weakened": "encryption removed or weakened",
    "iam-widened": "an IAM policy grants more",
    "open-ingress": "a security group admits the whole internet",
    "backend-changed": "the state backend or state key changed",
    "provider-version-changed": "a provider version changed",
    "provider-region-changed": "the provider region changed (everything moves)",
}

# --------------------------------------------------------------------------
# Reading a synthesized output.


@dataclass(frozen=True)
class Stack:
    name: str
    dependencies: tuple[str, ...]
    doc: dict[str, Any]

    def blocks(self) -> dict[str, dict[str, Any]]:
        """Every resource and data source by address (``type.name`` / ``data.type.name``)."""
        found: dict[str, dict[str, Any]] = {}
        for rtype, items in (self.doc.get("resource") or {}).items():
            for name, body in items.items():
                found[f"{rtype}.{name}"] = body
        for rtype, items in (self.doc.get("data") or {}).items():
            for name, body in items.items():
                found[f"data.{rtype}.{name}"] = body
        return found

    def imports(self) -> dict[str, str]:
        """Terraform ``import`` blocks: address -> cloud id."""
        return {item["to"]: str(item["id"]) for item in self.doc.get("import") or []}


@dataclass(frozen=True)
class Synth:
    root: Path
    stacks: dict[str, Stack]


class ReviewError(Exception):
    """The inputs cannot be reviewed; ``str()`` is the message."""


def load(root: Path | str) -> Synth:
    root = Path(root)
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise ReviewError(f"{root}: no manifest.json (is this a synthesized cdktf.out directory?)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    stacks = {}
    for name, entry in manifest.get("stacks", {}).items():
        doc = json.loads((root / entry["synthesizedStackPath"]).read_text(encoding="utf-8"))
        stacks[name] = Stack(name, tuple(sorted(entry.get("dependencies") or ())), doc)
    return Synth(root, stacks)


# --------------------------------------------------------------------------
# Structural diff of attribute values.

_MISSING = object()


@dataclass(frozen=True)
class AttributeChange:
    path: str
    old: Any
    new: Any
    kind: str  # "changed" | "added" | "removed"
    forces_replacement: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "old": self.old, "new": self.new, "forces_replacement": self.forces_replacement}


def _strip_meta(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_meta(v) for k, v in value.items() if k != "//"}
    if isinstance(value, list):
        return [_strip_meta(v) for v in value]
    return value


def _as_json(value: Any) -> Any:
    """The parsed value of a JSON object/array string, else ``_MISSING``."""
    if isinstance(value, str) and value[:1] in "{[" and len(value) > 1:
        try:
            parsed = json.loads(value)
        except ValueError:
            return _MISSING
        if isinstance(parsed, (dict, list)):
            return parsed
    return _MISSING


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def diff_values(old: Any, new: Any, path: str = "") -> list[AttributeChange]:
    """The leaf-level differences between two attribute values, in a stable order."""
    if old == new:
        return []
    # A block that appears or disappears is reported leaf by leaf, so that rules
    # keyed on leaves (``lifecycle.prevent_destroy``) see it.
    if old is _MISSING and isinstance(new, dict) and new:
        return diff_values({}, new, path)
    if new is _MISSING and isinstance(old, dict) and old:
        return diff_values(old, {}, path)
    if old is _MISSING:
        return [AttributeChange(path, None, new, "added")]
    if new is _MISSING:
        return [AttributeChange(path, old, None, "removed")]
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[AttributeChange] = []
        for key in sorted(set(old) | set(new)):
            changes += diff_values(old.get(key, _MISSING), new.get(key, _MISSING), _join(path, key))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        if all(not isinstance(v, (dict, list)) for v in old + new):
            return [AttributeChange(path, old, new, "changed")]
        changes = []
        for i in range(max(len(old), len(new))):
            a = old[i] if i < len(old) else _MISSING
            b = new[i] if i < len(new) else _MISSING
            changes += diff_values(a, b, f"{path}[{i}]")
        return changes
    parsed_old, parsed_new = _as_json(old), _as_json(new)
    if parsed_old is not _MISSING and parsed_new is not _MISSING:
        return diff_values(parsed_old, parsed_new, f"{path} (json)")
    return [AttributeChange(path, old, new, "changed")]


def _schema_path(path: str) -> str:
    """``vpc_config[0].subnet_ids`` -> ``vpc_config.subnet_ids`` (for the FORCE_NEW table)."""
    return re.sub(r"\[\d+\]", "", path).split(" (json)")[0]


def _forces_new(rtype: str, path: str) -> bool:
    keys = FORCE_NEW.get(rtype, frozenset())
    schema = _schema_path(path)
    return any(schema == k or schema.startswith(k + ".") for k in keys)


# --------------------------------------------------------------------------
# The review model.


@dataclass(frozen=True)
class Risk:
    category: str
    stack: str
    address: str
    reason: str


@dataclass
class ResourceChange:
    address: str
    action: str  # "add" | "import" | "change" | "replace" | "remove"
    construct_path: str
    changes: list[AttributeChange] = field(default_factory=list)
    import_id: str | None = None

    @property
    def type(self) -> str:
        parts = self.address.split(".")
        return parts[1] if parts[0] == "data" else parts[0]

    @property
    def is_data(self) -> bool:
        return self.address.startswith("data.")


@dataclass
class StackReview:
    name: str
    status: str  # "added" | "removed" | "changed" | "unchanged"
    resources: list[ResourceChange] = field(default_factory=list)
    outputs: list[AttributeChange] = field(default_factory=list)
    settings: list[AttributeChange] = field(default_factory=list)
    """Backend, required providers and provider configuration."""

    def count(self, action: str, data: bool = False) -> int:
        return sum(1 for r in self.resources if r.action == action and r.is_data == data)

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"


@dataclass
class Review:
    stacks: list[StackReview]
    risks: list[Risk]
    graph: dict[str, tuple[str, ...]]
    removed_stacks: list[str]
    waves: list[list[str]]
    destroy_waves: list[list[str]]

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.stacks)

    @property
    def changed_stacks(self) -> list[str]:
        return [s.name for s in self.stacks if s.changed]


def _path_of(body: dict[str, Any] | None) -> str:
    try:
        return body["//"]["metadata"]["path"]  # type: ignore[index]
    except (KeyError, TypeError):
        return ""


def _diff_stack(name: str, base: Stack | None, head: Stack | None) -> StackReview:
    base_blocks = base.blocks() if base else {}
    head_blocks = head.blocks() if head else {}
    base_imports = base.imports() if base else {}
    head_imports = head.imports() if head else {}
    review = StackReview(name, "added" if base is None else "removed" if head is None else "unchanged")
    for address in sorted(set(base_blocks) | set(head_blocks)):
        old, new = base_blocks.get(address), head_blocks.get(address)
        if old is None:
            imported = address in head_imports and address not in base_imports
            review.resources.append(
                ResourceChange(address, "import" if imported else "add", _path_of(new), import_id=head_imports.get(address) if imported else None)
            )
            continue
        if new is None:
            review.resources.append(ResourceChange(address, "remove", _path_of(old)))
            continue
        changes = diff_values(_strip_meta(old), _strip_meta(new))
        # An import block added for a resource already in the configuration: the
        # apply adopts the existing object (a removed import block is a no-op).
        newly_imported = address in head_imports and address not in base_imports
        if not changes and not newly_imported:
            continue
        rtype = ResourceChange(address, "", "").type
        marked = [
            AttributeChange(c.path, c.old, c.new, c.kind, _forces_new(rtype, c.path)) for c in changes
        ]
        if newly_imported:
            action = "import"
        elif any(c.forces_replacement for c in marked) and not address.startswith("data."):
            action = "replace"
        else:
            action = "change"
        review.resources.append(
            ResourceChange(address, action, _path_of(new), marked, import_id=head_imports[address] if newly_imported else None)
        )

    def section(doc: Stack | None, key: str) -> Any:
        return _strip_meta((doc.doc.get(key) if doc else None) or {})

    review.outputs = diff_values(section(base, "output"), section(head, "output")) if base and head else []
    if base and head:
        settings = {
            "terraform.backend": (base.doc.get("terraform", {}).get("backend"), head.doc.get("terraform", {}).get("backend")),
            "terraform.required_providers": (
                base.doc.get("terraform", {}).get("required_providers"),
                head.doc.get("terraform", {}).get("required_providers"),
            ),
            "provider": (section(base, "provider"), section(head, "provider")),
        }
        for prefix, (old, new) in settings.items():
            review.settings += diff_values(old or {}, new or {}, prefix)
    if review.status == "unchanged" and (review.resources or review.outputs or review.settings):
        review.status = "changed"
    return review


# --------------------------------------------------------------------------
# Risk rules.


def _truthy(value: Any) -> bool:
    return value not in (None, False, "false", 0, "", [], {})


def _last_key(path: str) -> str:
    return re.sub(r"\[\d+\]$", "", path.split(".")[-1])


def _refs(body: Any) -> set[str]:
    """Addresses referenced by tokens anywhere in ``body``."""
    return set(_TOKEN_REF.findall(json.dumps(body)))


def _tls_version(value: Any) -> tuple[int, ...] | None:
    match = re.search(r"TLS[-_]?(\d+)[-_.](\d+)", str(value), re.IGNORECASE)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _encryption_reason(change: AttributeChange) -> str | None:
    path = change.path.lower()
    if not any(word in path for word in _ENCRYPTION_WORDS):
        return None
    if change.kind == "removed" and _truthy(change.old):
        return f"`{change.path}` removed (was {_fmt(change.old)})"
    if change.old is True and change.new is False:
        return f"`{change.path}` turned off"
    if _last_key(change.path) == "sse_algorithm" and str(change.old).startswith("aws:kms") and change.new == "AES256":
        return f"`{change.path}` weakened from {change.old} (customer-managed KMS key) to AES256 (S3-managed key)"
    old_tls, new_tls = _tls_version(change.old), _tls_version(change.new)
    if old_tls and new_tls and new_tls < old_tls:
        return f"`{change.path}` lowered from {change.old} to {change.new}"
    return None


def _protection_reason(change: AttributeChange) -> str | None:
    key = _last_key(change.path)
    if key in PROTECTION_FLAGS and _truthy(change.old) and not _truthy(change.new):
        return f"`{change.path}` turned off ({_fmt(change.old)} -> {_fmt(change.new)})"
    if key in DESTRUCTIVE_FLAGS and not _truthy(change.old) and change.new is True:
        return f"`{change.path}` turned on"
    return None


@dataclass(frozen=True)
class _Statement:
    sid: str
    effect: str
    actions: frozenset[str]
    resources: frozenset[str]
    principals: frozenset[str]
    conditions: frozenset[str]


def _as_set(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, (list, tuple)):
        return frozenset(str(v) for v in value)
    return frozenset({str(value)})


def _statements(body: Any) -> list[_Statement] | None:
    """Normalised statements of a policy: a ``aws_iam_policy_document`` data source
    body (``statement`` blocks) or a parsed IAM JSON document (``Statement``)."""
    result = []
    if isinstance(body, dict) and isinstance(body.get("statement"), list):
        for i, st in enumerate(body["statement"]):
            principals = frozenset(
                f"{p.get('type')}:{ident}" for p in st.get("principals") or [] for ident in p.get("identifiers") or []
            )
            conditions = frozenset(
                f"{c.get('test')}:{c.get('variable')}={sorted(c.get('values') or [])}" for c in st.get("condition") or []
            )
            result.append(
                _Statement(
                    st.get("sid") or f"#{i}",
                    st.get("effect") or "Allow",
                    _as_set(st.get("actions")),
                    _as_set(st.get("resources")),
                    principals,
                    conditions,
                )
            )
        return result
    if isinstance(body, dict) and "Statement" in body:
        raw = body["Statement"]
        for i, st in enumerate(raw if isinstance(raw, list) else [raw]):
            principal = st.get("Principal")
            if principal == "*":
                principals = frozenset({"*:*"})
            elif isinstance(principal, dict):
                principals = frozenset(f"{k}:{v}" for k, vals in principal.items() for v in _as_set(vals))
            else:
                principals = frozenset()
            conditions = frozenset(
                f"{test}:{var}={sorted(_as_set(vals))}"
                for test, pairs in (st.get("Condition") or {}).items()
                for var, vals in pairs.items()
            )
            result.append(
                _Statement(
                    st.get("Sid") or f"#{i}",
                    st.get("Effect") or "Allow",
                    _as_set(st.get("Action")),
                    _as_set(st.get("Resource")),
                    principals,
                    conditions,
                )
            )
        return result
    return None


def _is_wildcard_action(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def _widening(old: list[_Statement], new: list[_Statement]) -> list[str]:
    """Why ``new`` grants more than ``old`` (empty when it does not)."""
    reasons = []
    allow_old = [s for s in old if s.effect == "Allow"]
    allow_new = [s for s in new if s.effect == "Allow"]
    actions_old = set().union(*(s.actions for s in allow_old)) if allow_old else set()
    actions_new = set().union(*(s.actions for s in allow_new)) if allow_new else set()
    added = sorted(actions_new - actions_old)
    wild = [a for a in added if _is_wildcard_action(a)]
    if wild:
        reasons.append(f"wildcard action {', '.join(wild)} allowed")
    if [a for a in added if a not in wild]:
        reasons.append(f"new actions allowed: {', '.join(a for a in added if a not in wild)}")
    star_old = {a for s in allow_old if "*" in s.resources for a in s.actions}
    star_new = {a for s in allow_new if "*" in s.resources for a in s.actions}
    if star_new - star_old:
        reasons.append(f"resource `*` newly allowed for {', '.join(sorted(star_new - star_old))}")
    principals_old = set().union(*(s.principals for s in allow_old)) if allow_old else set()
    principals_new = set().union(*(s.principals for s in allow_new)) if allow_new else set()
    if principals_new - principals_old:
        reasons.append(f"new principals: {', '.join(sorted(principals_new - principals_old))}")
    by_sid_old = {s.sid: s for s in allow_old}
    for s in allow_new:
        before = by_sid_old.get(s.sid)
        if before and before.conditions - s.conditions:
            reasons.append(f"condition removed from statement {s.sid}: {', '.join(sorted(before.conditions - s.conditions))}")
    deny_new = {(s.sid, s.actions) for s in new if s.effect == "Deny"}
    for s in old:
        if s.effect == "Deny" and (s.sid, s.actions) not in deny_new:
            reasons.append(f"Deny statement {s.sid} removed or changed ({', '.join(sorted(s.actions))})")
    return reasons


def _policy_pairs(old: Any, new: Any, path: str = "") -> Iterable[tuple[str, list[_Statement], list[_Statement]]]:
    """Pairs of (old, new) policies found at the same place in two resource bodies."""
    so, sn = _statements(old), _statements(new)
    if so is not None and sn is not None:
        yield path or "statement", so, sn
        return
    jo, jn = _as_json(old), _as_json(new)
    if jo is not _MISSING and jn is not _MISSING:
        yield from _policy_pairs(jo, jn, path)
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) & set(new)):
            yield from _policy_pairs(old[key], new[key], _join(path, key))


def _ingress_openings(rtype: str, body: dict[str, Any] | None) -> set[str]:
    """Descriptions of the ingress rules in ``body`` that admit 0.0.0.0/0 or ::/0."""
    if not body:
        return set()

    def describe(rule: dict[str, Any], cidrs: Iterable[str]) -> set[str]:
        proto = rule.get("protocol", rule.get("ip_protocol", "?"))
        ports = f"{rule.get('from_port', '*')}-{rule.get('to_port', '*')}"
        return {f"{proto} {ports} from {c}" for c in cidrs if c in _OPEN_CIDRS}

    found: set[str] = set()
    if rtype == "aws_security_group":
        rules = body.get("ingress") or []
        for rule in rules if isinstance(rules, list) else [rules]:
            found |= describe(rule, list(rule.get("cidr_blocks") or []) + list(rule.get("ipv6_cidr_blocks") or []))
    elif rtype == "aws_vpc_security_group_ingress_rule":
        found |= describe(body, [body.get("cidr_ipv4"), body.get("cidr_ipv6")])
    elif rtype == "aws_security_group_rule" and body.get("type") == "ingress":
        found |= describe(body, list(body.get("cidr_blocks") or []) + list(body.get("ipv6_cidr_blocks") or []))
    return found


def _risks(stack: StackReview, base: Stack | None, head: Stack | None) -> list[Risk]:
    base_blocks = base.blocks() if base else {}
    head_blocks = head.blocks() if head else {}
    removed = {r.address for r in stack.resources if r.action == "remove"}
    risks: list[Risk] = []

    def flag(category: str, address: str, reason: str) -> None:
        risks.append(Risk(category, stack.name, address, reason))

    for res in stack.resources:
        old, new = base_blocks.get(res.address), head_blocks.get(res.address)
        if res.is_data:
            if res.action == "change" and res.type == "aws_iam_policy_document":
                for _, so, sn in _policy_pairs(_strip_meta(old), _strip_meta(new)):
                    for reason in _widening(so, sn):
                        flag("iam-widened", res.address, reason)
            continue
        if res.action == "remove":
            if res.type in STATEFUL_TYPES:
                flag("stateful-removed", res.address, f"{res.type} destroyed ({res.construct_path or res.address})")
            elif res.type in ENCRYPTION_RESOURCE_TYPES and not (_refs(old) & removed):
                flag("encryption-weakened", res.address, f"{res.type} removed")
            continue
        if res.action == "replace" and res.type in STATEFUL_TYPES:
            forcing = ", ".join(f"`{c.path}` {_fmt(c.old)} -> {_fmt(c.new)}" for c in res.changes if c.forces_replacement)
            flag("stateful-replaced", res.address, f"{res.type} replaced because {forcing} forces a new resource")
        for change in res.changes:
            for category, reason in (("protection-off", _protection_reason(change)), ("encryption-weakened", _encryption_reason(change))):
                if reason:
                    flag(category, res.address, reason)
        if res.action in ("change", "replace"):
            for where, so, sn in _policy_pairs(_strip_meta(old), _strip_meta(new)):
                for reason in _widening(so, sn):
                    flag("iam-widened", res.address, f"{where}: {reason}")
        for opening in sorted(_ingress_openings(res.type, new) - _ingress_openings(res.type, old)):
            flag("open-ingress", res.address, f"ingress {opening}")
        if res.type in _POLICY_ATTACHMENT_TYPES:
            arn = (new or {}).get("policy_arn", "")
            if _BROAD_MANAGED_POLICY.search(str(arn)) and arn != (old or {}).get("policy_arn"):
                flag("iam-widened", res.address, f"broad managed policy attached: {arn}")

    for change in stack.settings:
        if change.path.startswith("terraform.backend"):
            flag("backend-changed", "terraform.backend", f"`{change.path}` {_fmt(change.old)} -> {_fmt(change.new)}")
        elif change.path.startswith("terraform.required_providers") and _last_key(change.path) == "version" and change.kind == "changed":
            flag("provider-version-changed", change.path, f"{_fmt(change.old)} -> {_fmt(change.new)}")
        elif change.path.startswith("provider") and _last_key(change.path) == "region" and change.kind == "changed":
            flag("provider-region-changed", change.path, f"{_fmt(change.old)} -> {_fmt(change.new)}: every resource of the stack would be re-created")
    return risks


# --------------------------------------------------------------------------
# Stack graph and deploy waves.


def waves(graph: dict[str, tuple[str, ...]], selected: Iterable[str]) -> list[list[str]]:
    """Topological levels of ``selected`` and every stack that depends on them.

    A stack's wave is one more than the latest wave among its dependencies in
    the set; stacks in one wave do not depend on each other and can be deployed
    in parallel.
    """
    dependents: dict[str, set[str]] = {name: set() for name in graph}
    for name, deps in graph.items():
        for dep in deps:
            dependents.setdefault(dep, set()).add(name)
    affected: set[str] = set()
    todo = [s for s in selected if s in graph]
    while todo:
        name = todo.pop()
        if name not in affected:
            affected.add(name)
            todo.extend(dependents.get(name, ()))
    level: dict[str, int] = {}

    def depth(name: str, seen: tuple[str, ...] = ()) -> int:
        if name in level:
            return level[name]
        if name in seen:
            raise ReviewError(f"dependency cycle in manifest.json: {' -> '.join(seen + (name,))}")
        inner = [depth(d, seen + (name,)) + 1 for d in graph.get(name, ()) if d in affected]
        level[name] = max(inner, default=0)
        return level[name]

    for name in affected:
        depth(name)
    result: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name in sorted(affected):
        result[level[name]].append(name)
    return result


def _node_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def mermaid(review: Review) -> str:
    changed = set(review.changed_stacks)
    affected = {name for wave in review.waves for name in wave}
    lines = ["flowchart LR"]
    # Stacks sharing a name suffix (``-dev``, ``-production``) are drawn as one group.
    groups: dict[str, list[str]] = {}
    for name in sorted(set(review.graph) | set(review.removed_stacks)):
        groups.setdefault(name.rsplit("-", 1)[-1] if "-" in name else "", []).append(name)
    for suffix, names in sorted(groups.items()):
        grouped = len(names) > 1 and suffix
        if grouped:
            lines.append(f"  subgraph {_node_id('env_' + suffix)}[{suffix}]")
        for name in names:
            lines.append(f'{"    " if grouped else "  "}{_node_id(name)}["{name}"]')
        if grouped:
            lines.append("  end")
    for name in sorted(review.graph):
        for dep in review.graph[name]:
            lines.append(f"  {_node_id(dep)} --> {_node_id(name)}")
    lines += [
        "  classDef changed fill:#ffe08a,stroke:#b7791f,stroke-width:2px",
        "  classDef dependent fill:#e8f0fe,stroke:#5b7bd5,stroke-dasharray:3 3",
        "  classDef removed fill:#fdd,stroke:#c00,stroke-dasharray:5 5",
    ]
    for cls, names in (
        ("changed", sorted(changed - set(review.removed_stacks))),
        ("dependent", sorted(affected - changed)),
        ("removed", sorted(review.removed_stacks)),
    ):
        if names:
            lines.append(f"  class {','.join(_node_id(n) for n in names)} {cls}")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Comparing and rendering.


def compare(base: Synth, head: Synth) -> Review:
    names = sorted(set(base.stacks) | set(head.stacks))
    stacks, risks = [], []
    for name in names:
        b, h = base.stacks.get(name), head.stacks.get(name)
        review = _diff_stack(name, b, h)
        stacks.append(review)
        if review.changed:
            risks += _risks(review, b, h)
    graph = {name: stack.dependencies for name, stack in head.stacks.items()}
    removed = sorted(set(base.stacks) - set(head.stacks))
    changed = [s.name for s in stacks if s.changed and s.name in head.stacks]
    base_graph = {name: stack.dependencies for name, stack in base.stacks.items()}
    # Removed stacks are destroyed in reverse dependency order (dependents first).
    destroy: list[list[str]] = []
    if removed:
        levels = waves({n: tuple(d for d in base_graph[n] if d in removed) for n in removed}, removed)
        destroy = [w for w in reversed(levels)]
    unique = sorted(set(risks), key=lambda r: (r.stack, r.address, r.category, r.reason))
    return Review(stacks, unique, graph, removed, waves(graph, changed), destroy)


_MAX_VALUE = 160
_FOLD_AFTER = 25


def _fmt(value: Any) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if len(text) > _MAX_VALUE:
        text = f"{text[: _MAX_VALUE - 20]}… ({len(text)} chars)"
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    # Inline code in a Markdown table: a backtick or pipe inside would break it.
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


_ACTION_SIGN = {"add": "+", "import": "⇐", "change": "~", "replace": "±", "remove": "-"}


def _is_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def _change_line(change: AttributeChange) -> str:
    note = ""
    if change.forces_replacement:
        # Two references may resolve to the same value (a renamed output): only a plan can tell.
        both_tokens = _is_token(change.old) and _is_token(change.new)
        note = " **(forces replacement if the referenced value differs)**" if both_tokens else " **(forces replacement)**"
    if change.kind == "added":
        return f"  - {_code(change.path)}: + {_code(_fmt(change.new))}{note}"
    if change.kind == "removed":
        return f"  - {_code(change.path)}: - {_code(_fmt(change.old))}{note}"
    if isinstance(change.old, list) and isinstance(change.new, list):
        gone = [v for v in change.old if v not in change.new]
        came = [v for v in change.new if v not in change.old]
        if gone or came:
            parts = [f"+ {_code(_fmt(v))}" for v in came] + [f"- {_code(_fmt(v))}" for v in gone]
            return f"  - {_code(change.path)}: {', '.join(parts)}{note}"
    return f"  - {_code(change.path)}: {_code(_fmt(change.old))} → {_code(_fmt(change.new))}{note}"


def render_markdown(review: Review) -> str:
    if not review.changed:
        return f"No infrastructure changes ({len(review.stacks)} stacks compared).\n"
    all_res = [r for s in review.stacks for r in s.resources if not r.is_data]
    totals = {a: sum(1 for r in all_res if r.action == a) for a in _ACTION_SIGN}
    changed = [s for s in review.stacks if s.changed]
    out = ["## Infrastructure review", ""]
    out.append(
        f"{len(changed)} of {len(review.stacks)} stacks changed: "
        f"{totals['add']} to add, {totals['import']} to import, {totals['change']} to change, "
        f"{totals['replace']} to replace, {totals['remove']} to destroy. "
        + (f"**{len(review.risks)} risk{'s' if len(review.risks) != 1 else ''} flagged.**" if review.risks else "No risks flagged.")
    )
    out.append("")
    if review.risks:
        out += ["### Risks", "", "| Risk | Stack | Resource | Reason |", "|---|---|---|---|"]
        for risk in review.risks:
            out.append(f"| ⚠️ {risk.category} | {risk.stack} | {_code(risk.address)} | {_cell(risk.reason)} |")
        out.append("")
    out += [
        "### Summary",
        "",
        "| Stack | Status | Add | Import | Change | Replace | Destroy | Data sources | Outputs | Settings |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in changed:
        data = sum(1 for r in s.resources if r.is_data)
        out.append(
            f"| {s.name} | {s.status} | {s.count('add')} | {s.count('import')} | {s.count('change')} | "
            f"{s.count('replace')} | {s.count('remove')} | {data} | {len(s.outputs)} | {len(s.settings)} |"
        )
    out.append("")
    out += ["### Deploy waves", ""]
    changed_names = set(review.changed_stacks)
    if review.waves:
        out.append("Stacks in one wave do not depend on each other and can be deployed in parallel.")
        out.append("")
        for i, wave in enumerate(review.waves, 1):
            labels = [f"`{n}`" + ("" if n in changed_names else " (dependent, re-plan)") for n in wave]
            out.append(f"{i}. {', '.join(labels)}")
    if review.removed_stacks:
        out.append("")
        out.append("Stacks removed (destroy dependents first): " + " → ".join(", ".join(f"`{n}`" for n in w) for w in review.destroy_waves))
    out += ["", "### Stack graph", "", "```mermaid", mermaid(review), "```", "", "### Changes", ""]
    for s in changed:
        out.append(f"#### {s.name} ({s.status})")
        out.append("")
        lines: list[str] = []
        for res in s.resources:
            where = f" — `{res.construct_path}`" if res.construct_path else ""
            extra = f" from id `{res.import_id}`" if res.import_id else ""
            lines.append(f"- **{_ACTION_SIGN[res.action]} {res.action}** `{res.address}`{extra}{where}")
            if res.action in ("change", "replace", "import"):
                lines += [_change_line(c) for c in res.changes]
        if s.outputs:
            lines.append("- **outputs**")
            lines += [_change_line(c) for c in s.outputs]
        if s.settings:
            lines.append("- **settings**")
            lines += [_change_line(c) for c in s.settings]
        if len(lines) > _FOLD_AFTER:
            # Long lists are folded so that the risks and waves stay on the first screen.
            lines = [f"<details><summary>{len(s.resources)} resource changes</summary>", "", *lines, "", "</details>"]
        out += lines + [""]
    return "\n".join(out).rstrip() + "\n"


def truncate(text: str, limit: int) -> str:
    """``text`` cut at a line boundary to at most ``limit`` characters, saying so."""
    if len(text) <= limit:
        return text
    note = "\n\n_Review truncated: the full text is in the `review` artifact of this run._\n"
    cut = text[: max(0, limit - len(note) - 4)]
    cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else cut
    if cut.count("```") % 2:  # do not leave a code fence open
        cut += "```\n"
    return cut.rstrip() + note


def render_json(review: Review) -> str:
    def stack(s: StackReview) -> dict[str, Any]:
        return {
            "name": s.name,
            "status": s.status,
            "counts": {a: s.count(a) for a in _ACTION_SIGN} | {"data": sum(1 for r in s.resources if r.is_data)},
            "resources": [
                {
                    "address": r.address,
                    "action": r.action,
                    "construct_path": r.construct_path,
                    "import_id": r.import_id,
                    "changes": [c.as_dict() for c in r.changes],
                }
                for r in s.resources
            ],
            "outputs": [c.as_dict() for c in s.outputs],
            "settings": [c.as_dict() for c in s.settings],
        }

    payload = {
        "changed": review.changed,
        "stacks": [stack(s) for s in review.stacks if s.changed],
        "unchanged_stacks": sorted(s.name for s in review.stacks if not s.changed),
        "risks": [asdict(r) for r in review.risks],
        "waves": review.waves,
        "removed_stacks": review.removed_stacks,
        "destroy_waves": review.destroy_waves,
        "graph": {k: list(v) for k, v in sorted(review.graph.items())},
    }
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------
# Synthesizing a git ref (``make review BASE=<ref>``).


def _synth_command(tree: Path, outdir: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, CDKTF_OUTDIR=str(outdir), PYTHONPATH=str(tree), JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    # The current virtualenv runs both trees: the base ref's code is imported from
    # its worktree (script directory and PYTHONPATH come before site-packages).
    return subprocess.Popen(
        [sys.executable, str(tree / "main.py")], cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def synthesize_ref(ref: str, repo: Path, work: Path, head_out: Path | None) -> tuple[Path, Path]:
    """Synthesize ``ref`` (in a temporary worktree) and, unless given, the working tree, in parallel."""
    tree = work / "base-tree"
    subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", "--quiet", str(tree), ref], check=True)
    try:
        jobs = {"base": (_synth_command(tree, work / "base-out"), work / "base-out")}
        if head_out is None:
            jobs["head"] = (_synth_command(repo, work / "head-out"), work / "head-out")
        for label, (proc, _) in jobs.items():
            output, _ = proc.communicate()
            if proc.returncode != 0:
                what = ref if label == "base" else "the working tree"
                raise ReviewError(f"synthesizing {what} failed:\n{output.strip()}")
        return work / "base-out", head_out or work / "head-out"
    finally:
        subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)], check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sophia_infra.review", description=__doc__.split("\n\n")[0])
    parser.add_argument("base_out", nargs="?", help="synthesized output of the base (cdktf.out directory)")
    parser.add_argument("head_out", nargs="?", help="synthesized output of the change (cdktf.out directory)")
    parser.add_argument("--base-ref", help="git ref to synthesize as the base (instead of BASE_OUT)")
    parser.add_argument("--head-out", help="with --base-ref: an existing synthesized output of the change (default: synthesize the working tree)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--output", "-o", help="also write the whole review to this file (never truncated)")
    parser.add_argument(
        "--max-chars",
        type=int,
        help="cut the Markdown on stdout to this length (a GitHub comment holds at most 65536 characters)",
    )
    parser.add_argument("--save-base", help="with --base-ref: keep the base ref's synthesized output in this directory")
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="sophia-review-") as tmp:
            if args.base_ref:
                if args.base_out:
                    parser.error("give either --base-ref REF [--head-out DIR] or BASE_OUT HEAD_OUT")
                repo = Path(subprocess.check_output(["git", "rev-parse", "--show-toplevel"], text=True).strip())
                head = Path(args.head_out).resolve() if args.head_out else None
                base_dir, head_dir = synthesize_ref(args.base_ref, repo, Path(tmp), head)
                if args.save_base:
                    shutil.rmtree(args.save_base, ignore_errors=True)
                    shutil.copytree(base_dir, args.save_base)
            else:
                if not (args.base_out and args.head_out):
                    parser.error("BASE_OUT and HEAD_OUT are required without --base-ref")
                base_dir, head_dir = Path(args.base_out), Path(args.head_out)
            review = compare(load(base_dir), load(head_dir))
    except (ReviewError, subprocess.CalledProcessError) as exc:
        print(f"review failed: {exc}", file=sys.stderr)
        return 1
    text = render_json(review) if args.format == "json" else render_markdown(review)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    if args.max_chars and args.format == "markdown":
        text = truncate(text, args.max_chars)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

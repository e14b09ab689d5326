#!/usr/bin/env python
"""Generate the review's force-new tables from the providers' own facts.

    python tools/gen_force_new.py aws [--out cdktf.out]
    python tools/gen_force_new.py kubernetes --source DIR [--out cdktf.out]

**aws (5.100.0)**: ``terraform providers schema -json`` does not say which attributes force
a new resource, but the provider binary does, when it plans. For every resource type the
app synthesizes (read from ``--out``), this script takes the app's own configurations of
it (references replaced by literals of the right type), and asks the
provider (``terraform plan -refresh=false``, offline: the provider mirror and mock
credentials, no account) to plan it against prior states that each differ from the
configuration in one attribute. ``replace_paths`` of the plan names the attributes whose
change makes Terraform replace the resource. Probed are every attribute the app sets
(nested blocks included) and every optional, non-computed top-level attribute it leaves
out (state set, configuration empty). An attribute that is neither is not probed; the
table lists what was.

**kubernetes (2.38.0)**: no provider binary here, so the facts come from the provider's Go
source (``ForceNew`` in the SDKv2 schema of each resource: nested ``Elem`` resources,
schema helpers with boolean arguments and maps built step by step are followed; a helper
whose source is not given is listed as unresolved): ``--source`` is a folder with files
of hashicorp/terraform-provider-kubernetes (``kubernetes/*.go``), each naming in its
first line the commit it comes from.

The tables are JSON (``sophia_infra/review/force_new_<provider>.json``), sorted, with the
source and version named; ``sophia_infra/review/diff.py`` reads them through
``forces_new``. Run again after adding a resource type or bumping a provider: a test
fails when the app synthesizes a type the tables do not cover.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "sophia_infra" / "review"
AWS_VERSION = "5.100.0"
KUBERNETES_VERSION = "2.38.0"
MIRROR = os.environ.get("SOPHIA_TF_MIRROR", "/opt/tf-plugins")
TOKEN = re.compile(r"\$\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")
DROP = {"//", "depends_on", "lifecycle", "provider", "count", "for_each", "provisioner", "connection"}
DUMMY_ARN = "arn:aws:iam::111111111111:role/probe"
# Attributes the app does not set in every synthesis, with a valid sample value, probed as
# if it did: optional and computed attributes cannot be probed otherwise (an empty
# configuration keeps the prior value). The provider still decides whether they force a
# new resource; only the sample value is ours.
EXTRA_PROBES: dict[str, dict[str, Any]] = {
    # The standby database is restored from a snapshot when one is named (BlueGreenDatabase).
    "aws_db_instance": {"snapshot_identifier": "probe-snapshot"},
}
PROVIDER_CONFIG = {
    "region": "us-west-2",
    "access_key": "mock-access-key",
    "secret_key": "mock-secret-key",
    "skip_credentials_validation": True,
    "skip_requesting_account_id": True,
    "skip_metadata_api_check": True,
    "skip_region_validation": True,
}


# --- the app's resources --------------------------------------------------------------


def synthesized_types(out: Path, prefix: str) -> dict[str, list[dict[str, Any]]]:
    """Resource type -> every configuration of it the app synthesizes (by stack and name), for ``prefix``."""
    found: dict[str, list[dict[str, Any]]] = {}
    for stack in sorted((out / "stacks").glob("*/cdk.tf.json")):
        doc = json.loads(stack.read_text(encoding="utf-8"))
        for rtype, items in sorted((doc.get("resource") or {}).items()):
            if rtype.startswith(prefix):
                found.setdefault(rtype, []).extend(items[name] for name in sorted(items))
    return dict(sorted(found.items()))


# --- aws: literal configurations -------------------------------------------------------


def _dummy(type_: Any, name: str) -> Any:
    """A literal of Terraform type ``type_`` for an attribute called ``name``."""
    if type_ == "number":
        return 1
    if type_ == "bool":
        return True
    if isinstance(type_, list) and type_[0] in ("list", "set"):
        return [_dummy(type_[1], name)]
    if isinstance(type_, list) and type_[0] == "map":
        return {"probe": _dummy(type_[1], name)}
    if name.endswith("arn") or name.endswith("arns") or name.endswith("key_id") or name in ("policy_arn", "kms_key"):
        return DUMMY_ARN
    if "polic" in name or name.endswith("document"):
        statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    if name.endswith("cidr_block"):
        return "10.0.0.0/16"
    if name == "url" or name.endswith("_url") or name == "endpoint":
        return "https://probe.example.com"
    if name == "availability_zone":
        return "us-west-2a"
    return "probe"


_ID_PREFIXES = {
    "launch_template": "lt-", "vpc": "vpc-", "subnet": "subnet-", "security_group": "sg-", "internet_gateway": "igw-",
    "nat_gateway": "nat-", "route_table": "rtb-", "eip": "eipalloc-", "network_acl": "acl-", "vpc_endpoint": "vpce-",
}  # fmt: skip


def _reference_literal(token: str, name: str) -> str | None:
    """A literal shaped like what ``token`` refers to (an id of EC2 shape, an ARN), if known."""
    lowered = token.lower()
    if re.search(r"arn\b|arn\}|_arn|arn_", lowered) or name.endswith("arn"):
        return DUMMY_ARN
    for kind, prefix in sorted(_ID_PREFIXES.items(), key=lambda item: -len(item[0])):
        if re.search(rf"aws_{kind}[._]", lowered) or name in (f"{kind}_id", f"default_{kind}_id") or (kind == "route_table" and "route_table" in name):
            return f"{prefix}0123456789abcdef0"
    return None


def _inline(token: str) -> str:
    """A literal for a reference inside a longer string (``arn:${partition}:...``)."""
    lowered = token.lower()
    for word, literal in (("partition", "aws"), ("region", "us-west-2"), ("account_id", "111111111111"), ("dns_suffix", "amazonaws.com")):
        if word in lowered:
            return literal
    return DUMMY_ARN if "arn" in lowered else "probe"


def _literal(value: Any, type_: Any, name: str) -> Any:
    """``value`` with every Terraform reference replaced by a literal of the attribute's type."""
    if isinstance(value, str) and TOKEN.fullmatch(value.strip()):
        shaped = _reference_literal(value, name) if type_ == "string" else None
        return shaped or _dummy(type_, name)
    if isinstance(value, str) and "${" in value:
        return TOKEN.sub(lambda m: _inline(m.group(0)), value)
    if isinstance(value, list):
        inner = type_[1] if isinstance(type_, list) and len(type_) > 1 else "string"
        return [_literal(v, inner, name) for v in value]
    if isinstance(value, dict):
        inner = type_[1] if isinstance(type_, list) and len(type_) > 1 else "string"
        return {k: _literal(v, inner, name) for k, v in value.items()}
    return value


def literal_config(body: dict[str, Any], block: dict[str, Any], top: bool = True) -> dict[str, Any]:
    """The app's configuration of one resource, references replaced, meta-arguments dropped."""
    result: dict[str, Any] = {}
    attributes = block.get("attributes", {})
    block_types = block.get("block_types", {})
    for key, value in body.items():
        if key == "//" or (top and key in DROP):
            continue
        if key in block_types:
            nested = block_types[key]["block"]
            items = value if isinstance(value, list) else [value]
            result[key] = [literal_config(item, nested, top=False) for item in items if isinstance(item, dict)]
        elif key in attributes:
            result[key] = _literal(value, attributes[key].get("type", "string"), key)
    return result


def _changed(value: Any) -> Any:
    """A different value of the same shape."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, list):
        return [*value, _changed(value[0])] if value and not isinstance(value[0], dict) else ["probe-other"]
    if isinstance(value, dict):
        return {**value, "probe-other": "x"}
    return f"{value}-probe" if isinstance(value, str) else "probe"


def _changed_policy(value: Any) -> Any:
    """Another valid IAM policy document (the provider normalizes IAM policies, also in state,
    and refuses invalid ones); other JSON (an ECR lifecycle policy) changes as any string."""
    try:
        document = json.loads(value)
    except (TypeError, ValueError):
        return _changed(value)
    if isinstance(document, dict) and "Statement" in document:
        return json.dumps({**document, "Id": "probe-changed"})
    return _changed(value)


def probes(config: dict[str, Any], block: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(attribute path, configuration, prior state) pairs, each state differing in one attribute."""
    found: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def walk(node: dict[str, Any], schema: dict[str, Any], path: list[Any]) -> None:
        for key, value in sorted(node.items()):
            if key in schema.get("block_types", {}):
                for index, item in enumerate(value):
                    walk(item, schema["block_types"][key]["block"], [*path, key, index])
                continue
            if isinstance(value, list) and (not value or isinstance(value[0], dict)):
                continue  # an empty or object-typed collection: no literal of its shape to change to
            state = copy.deepcopy(config)
            target = state
            for part in path:
                target = target[part]
            target[key] = _changed_policy(value) if "polic" in key else _changed(value)
            found.append((".".join(str(p) for p in [*path, key] if not isinstance(p, int)), config, state))

    walk(config, block, [])
    # Optional attributes the app leaves out: a prior value and an empty configuration.
    for key, attribute in sorted(block.get("attributes", {}).items()):
        if key in config or key == "id" or not attribute.get("optional") or attribute.get("computed"):
            continue
        state = {**config, key: _dummy(attribute.get("type", "string"), key)}
        found.append((key, config, state))
    return found


def _state(rtype: str, version: int, instances: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 1,
        "lineage": "00000000-0000-4000-8000-000000000000",
        "outputs": {},
        "resources": [
            {
                "mode": "managed",
                "type": rtype,
                "name": name,
                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                "instances": [{"schema_version": version, "attributes": {"id": "probe-id", **attributes}}],
            }
            for name, attributes in instances.items()
        ],
    }


def _terraform(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def aws_table(out: Path) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="force-new-aws-"))
    try:
        rc = work / "terraform.rc"
        rc.write_text(f'provider_installation {{\n  filesystem_mirror {{ path = "{MIRROR}" }}\n}}\n')
        env = dict(os.environ, TF_CLI_CONFIG_FILE=str(rc), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", TF_INPUT="0")
        required = {"aws": {"source": "hashicorp/aws", "version": AWS_VERSION}}
        (work / "main.tf.json").write_text(json.dumps({"terraform": {"required_providers": required}}))
        init = _terraform(["init", "-input=false", "-no-color"], work, env)
        if init.returncode != 0:
            sys.exit(f"terraform init failed:\n{init.stderr}")
        schema = json.loads(_terraform(["providers", "schema", "-json"], work, env).stdout)
        resources = schema["provider_schemas"]["registry.terraform.io/hashicorp/aws"]["resource_schemas"]
        types: dict[str, Any] = {}
        for rtype, bodies in synthesized_types(out, "aws_").items():
            types[rtype] = _probe_type(work, env, rtype, bodies, resources[rtype], required)
            print(f"{rtype}: {len(types[rtype]['force_new'])} of {len(types[rtype]['probed'])} probed attributes force a new resource", file=sys.stderr)
        return types
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _probe_type(work: Path, env: dict[str, str], rtype: str, bodies: list[dict], schema: dict, required: dict) -> dict[str, Any]:
    # Every attribute any of the app's configurations of the type sets is probed once, in the
    # first configuration that sets it (one plan per type).
    cases: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    seen: set[str] = set()
    extra = EXTRA_PROBES.get(rtype, {})
    for body in [*bodies, *([{**bodies[0], **extra}] if extra else [])]:
        config = literal_config(body, schema["block"])
        for path, conf, state in probes(config, schema["block"]):
            if path not in seen:
                seen.add(path)
                cases.append((path, conf, state))
    names = {f"p{i}": case for i, case in enumerate(cases)}
    document = {
        "terraform": {"required_providers": required},
        "provider": {"aws": PROVIDER_CONFIG},
        "resource": {rtype: {name: conf for name, (_, conf, _) in names.items()}},
    }
    (work / "main.tf.json").write_text(json.dumps(document))
    (work / "terraform.tfstate").write_text(json.dumps(_state(rtype, schema["version"], {n: s for n, (_, _, s) in names.items()})))
    plan = _terraform(["plan", "-refresh=false", "-input=false", "-no-color", "-lock=false", "-out=plan.bin"], work, env)
    if plan.returncode != 0:
        errors = sorted({line for line in (plan.stdout + plan.stderr).splitlines() if line.startswith(("Error", "│ Error")) and len(line) < 400})
        sys.exit(f"{rtype}: terraform plan failed:\n" + "\n".join(errors[:40]))
    shown = json.loads(_terraform(["show", "-json", "plan.bin"], work, env).stdout)
    forced: set[str] = set()
    for change in shown.get("resource_changes", []):
        for path in change["change"].get("replace_paths") or []:
            forced.add(".".join(str(p) for p in path if not isinstance(p, int)))
    return {"probed": sorted(seen), "force_new": sorted(forced)}


# --- kubernetes: the Go source ---------------------------------------------------------

_GO_TOKEN = re.compile(r'//[^\n]*|/\*.*?\*/|`[^`]*`|"(?:\\.|[^"\\])*"|[A-Za-z_][A-Za-z0-9_.]*|\S', re.S)


def _tokens(source: str) -> list[str]:
    return [t for t in _GO_TOKEN.findall(source) if not t.startswith("//") and not t.startswith("/*")]


def _matching(tokens: list[str], start: int) -> int:
    """Index of the brace closing the one at ``start``."""
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i] in "({[":
            depth += 1
        elif tokens[i] in ")}]":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced braces")


def _items(tokens: list[str], start: int, end: int) -> list[tuple[int, int]]:
    """Top-level comma-separated items of the composite literal ``tokens[start:end]`` (exclusive)."""
    items, depth, first = [], 0, start
    for i in range(start, end):
        if tokens[i] in "({[":
            depth += 1
        elif tokens[i] in ")}]":
            depth -= 1
        elif tokens[i] == "," and depth == 0:
            items.append((first, i))
            first = i + 1
    if first < end:
        items.append((first, end))
    return items


class GoSchemas:
    """Schemas of SDKv2 resources in a folder of Go source: ``ForceNew: true`` by path."""

    def __init__(self, folder: Path):
        self.functions: dict[str, tuple[list[str], list[str]]] = {}  # name -> (params, body tokens)
        self.unresolved: set[str] = set()
        for path in sorted(folder.glob("*.go")):
            self._index(_tokens(path.read_text(encoding="utf-8")))

    def _index(self, tokens: list[str]) -> None:
        for i, token in enumerate(tokens):
            if token != "func" or i + 2 >= len(tokens) or tokens[i + 2] != "(":
                continue
            name = tokens[i + 1]
            close = _matching(tokens, i + 2)
            params = [t for t in tokens[i + 3 : close] if re.fullmatch(r"[a-z][A-Za-z0-9_]*", t) and t not in ("bool", "string", "int")]
            brace = tokens.index("{", close)
            self.functions[name] = (params, tokens[brace : _matching(tokens, brace) + 1])

    def resource(self, factory: str) -> set[str]:
        """Force-new attribute paths of the resource built by ``factory()``."""
        return self._from_function(factory, {}, "")

    def _from_function(self, name: str, args: dict[str, bool], prefix: str) -> set[str]:
        if name not in self.functions:
            self.unresolved.add(name)
            return set()
        params, body = self.functions[name]
        bound = {p: args.get(p) for p in params}
        # The first map of schemas in the function: map[string]*schema.Schema{ ... }
        for i in range(len(body) - 2):
            if body[i] == "Schema" and body[i + 1] == ":" and body[i + 2].startswith("map"):
                brace = body.index("{", i + 2)
                return self._map(body, brace, bound, prefix)
            if body[i] == "Schema" and body[i + 1] == ":" and body[i + 3 : i + 4] == ["("]:
                return self._call(body, i + 2, bound, prefix, as_map=True)
            if body[i] == "map" and body[i + 1] == "[" and "schema.Schema" in body[i : i + 8] and "{" in body[i : i + 8]:
                brace = body.index("{", i)
                return self._map(body, brace, bound, prefix)
        return set()

    def _map(self, tokens: list[str], brace: int, bound: dict[str, bool | None], prefix: str) -> set[str]:
        found: set[str] = set()
        end = _matching(tokens, brace)
        for first, last in _items(tokens, brace + 1, end):
            if last - first < 3 or tokens[first + 1] != ":" or not tokens[first].startswith('"'):
                continue
            key = prefix + json.loads(tokens[first])
            value = first + 2
            if tokens[value] == "{" or tokens[value].startswith("&"):
                brace_at = tokens.index("{", value)
                found |= self._schema(tokens, brace_at, bound, key)
            elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", tokens[value]) and tokens[value + 1] == "(":
                found |= self._call(tokens, value, bound, key, as_map=False)
        return found

    def _call(self, tokens: list[str], at: int, bound: dict, key: str, as_map: bool) -> set[str]:
        name = tokens[at]
        close = _matching(tokens, at + 1)
        args = [tokens[a:b] for a, b in _items(tokens, at + 2, close)]
        values = {}
        if name in self.functions:
            for param, arg in zip(self.functions[name][0], args, strict=False):
                values[param] = self._bool(arg, bound)
            params, body = self.functions[name]
            # A wrapper that marks the schema it is given: s.ForceNew = true; return s.
            if params and "".join(body).count(f"{params[0]}.ForceNew=true") and args and args[0][1:2] == ["("]:
                return {key} | self._call(tokens, tokens.index(args[0][0], at + 2), bound, key, as_map)
        if as_map:
            return self._from_function(name, values, key)
        return self._schema_function(name, values, key)

    def _schema_function(self, name: str, args: dict, key: str) -> set[str]:
        """A helper returning one *schema.Schema (``return &schema.Schema{...}``, or another helper's)."""
        if name not in self.functions:
            self.unresolved.add(name)
            return set()
        params, body = self.functions[name]
        bound = {p: args.get(p) for p in params}
        for i, token in enumerate(body):
            if token != "return":
                continue
            if "schema.Schema" in body[i + 1 : i + 4]:
                return self._schema(body, body.index("{", i), bound, key)
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", body[i + 1]) and body[i + 2] == "(":
                return self._call(body, i + 1, bound, key, as_map=False)
        self.unresolved.add(name)
        return set()

    def _variable(self, tokens: list[str], name: str, bound: dict, prefix: str) -> set[str]:
        """Paths of a map of schemas built step by step in a function body:
        ``fields := helper(...)``, ``fields["k"] = &schema.Schema{...}``, ``fields["k"].ForceNew = true``."""
        found: set[str] = set()
        for i, token in enumerate(tokens[:-4]):
            if token != name:
                continue
            if tokens[i + 1] in (":=", "=") or tokens[i + 1 : i + 3] == [":", "="]:
                at = i + (2 if tokens[i + 1] in (":=", "=") else 3)
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", tokens[at]) and tokens[at + 1] == "(":
                    found |= self._call(tokens, at, bound, prefix, as_map=True)
            elif tokens[i + 1] == "[" and tokens[i + 2].startswith('"') and tokens[i + 3] == "]":
                key = prefix + json.loads(tokens[i + 2])
                rest = tokens[i + 4 : i + 10]
                if rest[:1] == ["="] and "schema.Schema" in "".join(rest[:4]):
                    found |= self._schema(tokens, tokens.index("{", i + 4), bound, key)
                elif rest[:4] == [".", "ForceNew", "=", "true"]:
                    found.add(key)
        return found

    def _bool(self, expr: list[str], bound: dict) -> bool | None:
        text = "".join(expr)
        negate = text.startswith("!")
        text = text.lstrip("!")
        value = {"true": True, "false": False}.get(text, bound.get(text))
        return None if value is None else (not value if negate else value)

    def _schema(self, tokens: list[str], brace: int, bound: dict, key: str) -> set[str]:
        """One schema literal ``{ Type: ..., ForceNew: ..., Elem: ... }`` at ``key``."""
        found: set[str] = set()
        end = _matching(tokens, brace)
        for first, last in _items(tokens, brace + 1, end):
            field = tokens[first]
            if tokens[first + 1 : first + 2] != [":"]:
                continue
            value = tokens[first + 2 : last]
            if field == "ForceNew" and self._bool(value, bound):
                found.add(key)
            elif field == "Elem" and value and "schema.Resource" in "".join(value[:3]):
                inner = first + 2 + value.index("{")
                for a, b in _items(tokens, inner + 1, _matching(tokens, inner)):
                    if tokens[a] == "Schema" and tokens[a + 1] == ":":
                        rest = tokens[a + 2 : b]
                        if rest and rest[0].startswith("map"):
                            found |= self._map(tokens, tokens.index("{", a + 2), bound, key + ".")
                        elif rest and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rest[0]) and rest[1:2] == ["("]:
                            found |= self._call(tokens, a + 2, bound, key + ".", as_map=True)
                        elif len(rest) == 1 and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rest[0]):
                            found |= self._variable(tokens, rest[0], bound, key + ".")
            elif field == "Elem" and value and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value[0]) and value[1:2] == ["("]:
                # Elem: someResource() returning &schema.Resource{Schema: ...}
                found |= self._call(tokens, first + 2, bound, key + ".", as_map=True)
        return found


_PROVIDER_ENTRY = re.compile(r'"(kubernetes_[a-z0-9_]+)"\s*:\s*([A-Za-z_][A-Za-z0-9_.]*)\(')


def _factory_by_convention(rtype: str) -> str:
    """``kubernetes_pod_disruption_budget_v1`` -> ``resourceKubernetesPodDisruptionBudgetV1``,
    the provider's naming (used when provider.go is not among the source files)."""
    return "resource" + "".join(part.capitalize() for part in rtype.split("_"))


def kubernetes_table(out: Path, source: Path) -> tuple[dict[str, Any], dict[str, str]]:
    provider = source / "provider.go"
    factories = {}
    if provider.is_file():
        factories = {t: f.split(".")[-1] for t, f in _PROVIDER_ENTRY.findall(provider.read_text(encoding="utf-8"))}
    schemas = GoSchemas(source)
    types: dict[str, Any] = {}
    for rtype in synthesized_types(out, "kubernetes_"):
        factory = factories.get(rtype, _factory_by_convention(rtype))
        if factory not in schemas.functions:
            sys.exit(f"{rtype}: {factory} is not in the source files of {source}")
        schemas.unresolved = set()
        forced = schemas.resource(factory)
        types[rtype] = {"force_new": sorted(forced), "unresolved_helpers": sorted(schemas.unresolved)}
        print(f"{rtype}: {len(forced)} force-new attributes", file=sys.stderr)
    # Each file names the commit it was taken from in its first line.
    files = {p.name: p.read_text(encoding="utf-8").splitlines()[0].lstrip("/ ") for p in sorted(source.glob("*.go"))}
    return types, files


# --- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("provider", choices=("aws", "kubernetes"))
    parser.add_argument("--out", default=str(ROOT / "cdktf.out"), help="the synthesized app (default: cdktf.out)")
    parser.add_argument("--source", help="kubernetes: folder with the provider's kubernetes/*.go files")
    parser.add_argument("--note", help="kubernetes: how the source files were obtained (written into the table)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.provider == "aws":
        table = {
            "provider": "registry.terraform.io/hashicorp/aws",
            "version": AWS_VERSION,
            "source": f"terraform plan replace_paths of the hashicorp/aws {AWS_VERSION} provider binary "
            "(tools/gen_force_new.py aws): the app's own configuration of each type, planned against prior "
            "states differing in one attribute each",
            "types": aws_table(out),
        }
    else:
        if not args.source:
            parser.error("kubernetes needs --source DIR")
        types, files = kubernetes_table(out, Path(args.source))
        table = {
            "provider": "registry.terraform.io/hashicorp/kubernetes",
            "version": KUBERNETES_VERSION,
            "source": "hashicorp/terraform-provider-kubernetes Go source: ForceNew in the SDKv2 schema of each "
            "resource, helpers followed where their source was given (tools/gen_force_new.py kubernetes). "
            + (args.note or ""),
            "source_files": files,
            "types": types,
        }
    target = TABLES / f"force_new_{args.provider}.json"
    target.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}: {len(table['types'])} resource types", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Secret-shaped values: found before they reach ``cdktf.out/`` or a log, and never repeated.

:func:`scan` walks a parsed document (a configuration file, a synthesized stack) and
reports every string that looks like a credential:

* a well-known token shape anywhere in a string: AWS access key ids and secret access
  keys, GitHub, GitLab, Slack, Stripe, Google, OpenAI-style, npm, PyPI and SendGrid
  tokens, JSON web tokens, private keys, ``password=`` pairs of connection strings;
* a URL carrying a credential: a password in its user info, a token-named query
  parameter (``token``, ``sig``, ``X-Amz-Signature``...), a webhook whose token is its
  path (Slack, Discord, Teams, Zapier, Telegram) or a random-looking path segment;
* a literal in a secret-named field (``password``, ``api_key``, ``client_secret``...,
  also a Kubernetes ``{"name": "DB_PASSWORD", "value": ...}`` pair), where references
  (``${...}``), ARNs and switches (``manage_master_user_password``) are fine;
* a long random-looking string in a field meant for a name, an id or an ARN (a
  password typed where the *name* of its secret belongs).

A finding names the field and a :func:`redact`-ed form: the token's public prefix and its
length, never the value. :func:`shown` is the one function that turns any value into
text for an error message. Standard library only: the configuration model and the
commands both use it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

# (kind, pattern, length of the public prefix kept by redact())
TOKEN_SHAPES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("an AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"), 4),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----"), 0),
    ("a GitHub token", re.compile(r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"), 4),
    ("a GitLab token", re.compile(r"(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{20,}"), 6),
    ("a Slack token", re.compile(r"(?<![A-Za-z0-9])(?:xox[abposr]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})"), 5),
    ("a Stripe key", re.compile(r"(?<![A-Za-z0-9])(?:sk|rk)_live_[A-Za-z0-9]{16,}"), 8),
    ("a Google API key", re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}"), 4),
    ("an API secret key (sk-...)", re.compile(r"(?<![A-Za-z0-9])sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"), 3),
    ("an npm token", re.compile(r"(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}"), 4),
    ("a PyPI token", re.compile(r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"), 5),
    ("a SendGrid key", re.compile(r"(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"), 3),
    ("a JSON web token", re.compile(r"(?<![A-Za-z0-9])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"), 3),
    (
        "a password in a connection string",
        re.compile(r"(?i)(?<![a-z])(?:password|passwd|pwd|accountkey|sharedaccesskey)=(?!\$\{)[^;&\s'\"]{4,}"),
        0,
    ),
)
# 40 characters of base64 with all three character classes: the shape of an AWS secret
# access key (hex digests have no upper case; longer base64 runs are not delimited).
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
# Webhooks whose URL is their credential (the token is in the path): (host, path prefix);
# the host's subdomains too. The alarm topic refuses them as endpoints with the same table.
TOKEN_IN_URL_WEBHOOKS = (
    ("hooks.slack.com", "/"),
    ("discord.com", "/api/webhooks"),
    ("discordapp.com", "/api/webhooks"),
    ("webhook.office.com", "/"),
    ("outlook.office.com", "/webhook"),
    ("events.pagerduty.com", "/integration"),
    ("hooks.zapier.com", "/"),
    ("api.telegram.org", "/bot"),
    ("chat.googleapis.com", "/v1/spaces"),
)
_TOKEN_QUERY = re.compile(
    r"(?i)^(token|access_token|auth|authorization|key|api_?key|secret|client_secret|password|passwd|pwd|pass|"
    r"sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|code|hmac)$"
)
SECRET_FIELD = re.compile(
    r"(?i)(pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|access[_-]?key|auth[_-]?key|webhook)"
)
"""Field names that hold secrets (or, with the exceptions below, name where one lives)."""
_NOT_A_VALUE = re.compile(
    # A "*_type" names a kind (CodeBuild's image_pull_credentials_type: CODEBUILD or SERVICE_ROLE).
    r"(?i)(^manage_master_user_password$|_(arn|arns|id|ids|name|names|kms_key_id|kms_key_arn|version|enabled|type|rotation.*)$|"
    r"^description$|^enable_|^(secret|token)_?(arn|name)$|"
    # EC2 instance metadata: "required" means IMDSv2 session tokens, not a token value.
    r"^http_tokens$)"
)
_NAME_FIELD = re.compile(r"(?i)(^|_)(name|names|id|ids|arn|arns|identifier|alias|prefix)$")
"""Fields meant for a name, an id or an ARN: where a random-looking string is out of place."""
_MAY_HOLD_SECRET = re.compile(r"(?i)(endpoint|url|uri|dsn|connection_string)")
"""Fields whose refused values are never echoed (a tokenised webhook, a DSN with a password)."""
_REFERENCE = re.compile(r"\$\{")


@dataclass(frozen=True, order=True)
class SecretFinding:
    field: str
    """Dotted path of the field (``database.master_password_secret_id``, ``env[0].value``)."""
    kind: str
    """What it looks like (``an AWS access key id``)."""
    redacted: str
    """The value as it may be shown (:func:`redact`)."""

    def __str__(self) -> str:
        return f"{self.field}: looks like {self.kind} (value {self.redacted}); keep it in Secrets Manager and reference it"


def redact(value: str, keep: int = 0) -> str:
    """``AKIA…[REDACTED, 20 chars]``: a public prefix of ``keep`` characters (the token
    type's fixed prefix; for a URL its scheme and host) and the length, never the secret."""
    if _URL.fullmatch(value):
        parts = urlsplit(value)
        try:
            host = parts.hostname or ""
        except ValueError:
            host = ""
        return f"{parts.scheme}://{host}/…[REDACTED, {len(value)} chars]"
    keep = min(keep, len(value) // 3)
    return (value[:keep] + "…" if keep else "") + f"[REDACTED, {len(value)} chars]"


def _classes(segment: str) -> int:
    return sum(1 for test in (str.islower, str.isupper, str.isdigit) if any(test(c) for c in segment))


def _class_of(char: str) -> int:
    return 0 if char.islower() else 1 if char.isupper() else 2


def looks_random(segment: str, min_length: int = 12) -> bool:
    """A run of letters and digits that mixes lower case, upper case and digits and switches
    between them often (random), unlike CamelCase words with a number
    (``AmazonEC2ContainerRegistryReadOnly``) or hex digests (no upper case)."""
    if len(segment) < min_length or _classes(segment) < 3:
        return False
    switches = sum(1 for a, b in zip(segment, segment[1:], strict=False) if _class_of(a) != _class_of(b))
    return switches / (len(segment) - 1) >= 0.35


def _random_segment(text: str, min_length: int = 12) -> bool:
    return any(looks_random(s, min_length) for s in re.split(r"[^A-Za-z0-9]+", text))


def token_webhook(host: str, path: str) -> str | None:
    """The service (its host in :data:`TOKEN_IN_URL_WEBHOOKS`) if ``host`` and ``path`` are
    those of a webhook whose URL is its token, else None."""
    host = host.lower()
    for suffix, prefix in TOKEN_IN_URL_WEBHOOKS:
        if (host == suffix or host.endswith("." + suffix)) and path.startswith(prefix):
            return suffix
    return None


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        password = parts.password
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if password and not password.startswith("${"):
        return "a URL with a password"
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if _TOKEN_QUERY.match(name) and value and not value.startswith("${"):
            return f"a URL with a token in its query ({name}=)"
    path = parts.path.strip("/")
    if token_webhook(host, parts.path) and len(path) > 12:
        return "a webhook URL whose path is its token"
    if _random_segment(path, 20):
        return "a URL with a token in its path"
    return None


# A synthesized output repeats its strings (~10,000 in all, ~2,000 distinct: tag values,
# references, ARNs): each is judged once per process.
@functools.lru_cache(maxsize=8192)
def value_problem(value: str) -> tuple[str, int] | None:
    """(what it looks like, public prefix length) if ``value`` holds a credential shape anywhere."""
    for kind, pattern, keep in TOKEN_SHAPES:
        if pattern.search(value):
            # Keep the prefix only when the value *is* the token (else the prefix is other text).
            return kind, keep if pattern.fullmatch(value) else 0
    for match in _URL.finditer(value):
        problem = _url_problem(match.group(0))
        if problem:
            return problem, 0
    for match in _AWS_SECRET.finditer(value):
        if looks_random(match.group(0), 40):  # all three character classes, switching often
            return "an AWS secret access key", 0
    return None


def _walk(value: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "//":
                continue  # cdktf metadata: construct paths and unique ids, never values
            yield from _walk(child, (*path, str(key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, (*path, str(index)))


def field_name(path: Sequence[str]) -> str:
    """The nearest field name of ``path`` (list indexes skipped): the name that says
    whether a value may be a secret (``("models", "0", "image")`` -> ``image``,
    ``("api_keys", "1")`` -> ``api_keys``). The config loader names fields by it too."""
    return next((part for part in reversed(path) if not part.isdigit()), "")


def format_path(path: tuple[str, ...]) -> str:
    """``("models", "0", "image")`` -> ``models[0].image``."""
    text = ""
    for part in path:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "(top level)"


def _is_literal(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip()) and not _REFERENCE.search(value) and not value.startswith("arn:")


def scan(document: object) -> list[SecretFinding]:
    """Every secret-shaped value in ``document`` (parsed YAML or JSON), in document order."""
    findings: list[SecretFinding] = []
    for path, value in _walk(document):
        field = field_name(path)
        if isinstance(value, dict) and isinstance(value.get("name"), str) and SECRET_FIELD.search(value["name"]):
            literal = value.get("value")
            if _is_literal(literal) and not value_problem(literal):  # type: ignore[arg-type]
                findings.append(SecretFinding(format_path((*path, "value")), f"a literal {value['name']}", redact(literal)))  # type: ignore[arg-type]
        if not isinstance(value, str):
            continue
        found = value_problem(value)
        if found:
            kind, keep = found
            findings.append(SecretFinding(format_path(path), kind, redact(value, keep)))
        elif SECRET_FIELD.search(field) and not _NOT_A_VALUE.search(field) and _is_literal(value):
            findings.append(SecretFinding(format_path(path), f"a literal secret in {field!r}", redact(value)))
        elif _NAME_FIELD.search(field) and not _REFERENCE.search(value) and _random_segment(value):
            findings.append(
                SecretFinding(format_path(path), "a password or key (a random string where a name or id belongs)", redact(value))
            )
    return findings


def scan_output(outdir: Path) -> list[str]:
    """Findings in a synthesized output (``manifest.json`` and every ``stacks/*/cdk.tf.json``),
    each as ``stacks/<stack>/cdk.tf.json: <field>: looks like ... (value <redacted>)``."""
    problems = []
    files = [outdir / "manifest.json", *sorted(outdir.glob("stacks/*/*.json"))]
    for file in files:
        if not file.is_file():
            continue
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{file.relative_to(outdir)}: unreadable ({type(exc).__name__})")
            continue
        problems += [f"{file.relative_to(outdir)}: {finding}" for finding in scan(document)]
    return problems


# --- Showing values in error messages --------------------------------------------------

MAX_SHOWN = 200
"""Longest value text an error message repeats."""


def needs_redaction(value: object, field: str = "") -> bool:
    """Whether a string value must not be repeated: secret-shaped, in a secret-named field,
    random where a name belongs, or in a field that may carry credentials (URLs)."""
    if not isinstance(value, str) or not value:
        return False
    if value_problem(value):
        return True
    if value.startswith("arn:"):
        return False  # an ARN names where something lives, never a credential
    if SECRET_FIELD.search(field) or _MAY_HOLD_SECRET.search(field):
        return True
    return bool(_NAME_FIELD.search(field) and _random_segment(value))


def _redact_tree(value: object, field: str) -> object:
    if isinstance(value, dict):
        return {k: _redact_tree(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_tree(v, field) for v in value]
    if needs_redaction(value, field):
        found = value_problem(value)  # type: ignore[arg-type]
        return redact(value, found[1] if found else 0)  # type: ignore[arg-type]
    return value


def shown(value: object, field: str = "") -> str:
    """``value`` as an error message may repeat it: redacted where it could be a secret
    (:func:`needs_redaction`, also inside lists and mappings), cut after :data:`MAX_SHOWN`
    characters otherwise."""
    safe = _redact_tree(value, field)
    text = safe if isinstance(value, str) and safe != value else repr(safe)
    if len(text) > MAX_SHOWN:  # type: ignore[arg-type]
        text = f"{text[: MAX_SHOWN - 1]}… ({len(text)} chars)"  # type: ignore[index,arg-type]
    return text  # type: ignore[return-value]


def scrub(message: str, value: object, field: str = "") -> str:
    """``message`` with every string of ``value`` that must not be repeated replaced by its
    redacted form, and every long one cut (validators write ``got {value!r}`` into their
    own messages)."""
    for path, leaf in _walk(value):
        name = field_name(path) or field
        if not isinstance(leaf, str) or len(leaf) < 4 or leaf not in message:
            continue
        if needs_redaction(leaf, name):
            found = value_problem(leaf)
            safe = redact(leaf, found[1] if found else 0)
        elif len(leaf) > MAX_SHOWN:
            safe = shown(leaf)
        else:
            continue
        message = message.replace(repr(leaf), safe).replace(leaf, safe)
    return message

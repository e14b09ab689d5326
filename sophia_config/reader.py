"""Reading one configuration file strictly: ``file: problem`` for anything that is not a
small, UTF-8, YAML mapping written out in full.

* unreadable, a directory, over :data:`MAX_BYTES`, not UTF-8, empty, or not a mapping at
  the top level: one line naming the file;
* a key given twice in one mapping (YAML keeps the last silently: a second ``logging:``
  took production's log retention from 90 days to 1): refused with both lines;
* anchors, aliases and merge keys: refused. Configuration is read by people in a diff,
  and an alias bomb (a few lines that expand to gigabytes) never gets to expand;
* every problem is one line, at most :data:`MAX_LINE` characters, at most
  :data:`MAX_PROBLEMS` of them; values are repeated only through
  :func:`constructs_lib.security.secret_scan.shown`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from constructs_lib.security.secret_scan import shown

MAX_BYTES = 1024 * 1024
"""A configuration file is a page or two; anything over 1 MiB is a mistake."""
MAX_LINE = 1000
MAX_PROBLEMS = 40


class ConfigError(Exception):
    """A configuration file is invalid. ``str(error)`` is the user-facing message: one line
    per problem, each bounded, and a bounded number of them."""

    def __init__(self, problems: list[str]):
        lines = [p if len(p) <= MAX_LINE else f"{p[: MAX_LINE - 1]}…" for p in problems]
        if len(lines) > MAX_PROBLEMS:
            lines = [*lines[:MAX_PROBLEMS], f"... and {len(lines) - MAX_PROBLEMS} more problems"]
        self.problems = lines
        super().__init__("\n".join(lines))


class _Refused(yaml.YAMLError):
    def __init__(self, mark: yaml.Mark | None, problem: str):
        super().__init__(problem)
        self.problem_mark = mark
        self.problem = problem
        self.context = None


class _NoDuplicateKeys:
    """Refuses merge keys and a key given twice in one mapping (a constructor mix-in)."""

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(key_node.start_mark, "YAML merge key << is not allowed: write the values out")
            key = self.construct_object(key_node, deep=True)  # type: ignore[attr-defined]
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeLoader reports it
                continue
            if first is not None:
                raise _Refused(
                    key_node.start_mark,
                    f"duplicate key {shown(key)} (first at line {first}): YAML would keep only the last one",
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)  # type: ignore[misc]


class StrictLoader(_NoDuplicateKeys, yaml.SafeLoader):
    """``yaml.SafeLoader`` without anchors, aliases or merge keys, and without duplicate keys."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, f"YAML alias *{event.anchor} is not allowed: write the value out")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused(event.start_mark, f"YAML anchor &{anchor} is not allowed: write the value out")
        return super().compose_node(parent, index)


class _FastStrictLoader(_NoDuplicateKeys, yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """The same, parsed by libyaml (~15x faster than PyYAML's pure-Python scanner, which
    took 21 ms of a synthesis and ~5 s of CPU over the test suite). It only tells a clean
    file from one with a problem: :func:`_load` reads the latter again with
    :class:`StrictLoader`, so every message, line and column is PyYAML's as before."""


_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


def _load(text: str) -> Any:
    if not _NON_PRINTABLE.search(text):  # PyYAML refuses these; libyaml lets some through
        try:
            # Anchors and aliases are resolved by libyaml's composer: looked for in its events.
            if not any(
                isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None)
                for e in yaml.parse(text, Loader=_FastStrictLoader)
            ):
                return yaml.load(text, Loader=_FastStrictLoader)  # noqa: S506 - a SafeLoader
        except yaml.YAMLError:
            pass
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader


def _yaml_problem(path: Path, exc: yaml.YAMLError) -> str:
    """``file: ... line N, column M: problem``, without PyYAML's snippet of the line (it may
    hold a secret)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or type(exc).__name__
    if isinstance(exc, _Refused):
        return f"{path}: line {mark.line + 1 if mark else '?'}: {problem}"
    context = getattr(exc, "context", None)
    return f"{path}: not valid YAML{where}: {problem}" + (f" ({context})" if context else "")


def read_mapping(path: Path) -> dict[str, Any]:
    """The top-level mapping of ``path``; :class:`ConfigError` naming the file otherwise."""
    if path.is_dir():
        raise ConfigError([f"{path}: is a directory, not a configuration file"])
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([f"{path}: unreadable: no such file (a broken symbolic link?)"]) from None
    except PermissionError:
        raise ConfigError([f"{path}: unreadable: permission denied"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: unreadable: {exc.strerror or type(exc).__name__}"]) from None
    if len(raw) > MAX_BYTES:
        raise ConfigError([f"{path}: larger than {MAX_BYTES // 1024} KiB: not a configuration file"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [f"{path}: not UTF-8 text: byte 0x{raw[exc.start]:02x} on line {line} (offset {exc.start}); save it as UTF-8"]
        ) from None
    try:
        data = _load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(path, exc)]) from None
    if data is None:
        raise ConfigError([f"{path}: empty: expected a mapping of settings"])
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: expected a mapping of settings at the top level, got a {type(data).__name__} ({shown(data)})"])
    return data

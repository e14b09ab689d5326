"""Reading the configuration: ``config/project.yaml`` and every ``config/<env>.yaml``
parsed into the models of :mod:`sophia_config.model`, then checked across files
(:mod:`sophia_config.cross_checks`) and for capacity (:mod:`sophia_config.capacity_check`).

Every problem of every file is collected before :class:`ConfigError` is raised, so
that one run names them all.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from constructs_lib.security import secret_scan
from sophia_config import cross_checks
from sophia_config.capacity_check import check_capacity
from sophia_config.model import AppConfig, Environment, EnvironmentConfig, ProjectConfig
from sophia_config.reader import ConfigError, read_mapping
from sophia_config.types import Model

PROJECT_FILE = "project.yaml"

# Environment names end every resource name ({project}-{component}-{type}-{env}):
# lowercase letters and digits only, so that names stay valid for S3, RDS and
# OpenSearch, and short, so that they fit OpenSearch's 28-character limit.
ENV_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,9}$")


def _describe(path: Path, error: ValidationError, model: type[Model]) -> list[str]:
    items = error.errors(include_url=False)
    # A mistyped key is both an unknown field and, if the intended one is required, a
    # missing one: said once, with the field it most likely meant.
    unknown = [item["loc"] for item in items if item["type"] == "extra_forbidden"]
    meant = {_dotted(loc): (loc, _closest(model, loc)) for loc in unknown}
    explained = {_dotted((*loc[:-1], name)) for loc, name in meant.values() if name}
    problems = []
    for item in items:
        field = _dotted(item["loc"])
        name = secret_scan.field_name([str(part) for part in item["loc"]])
        # Values are repeated only through secret_scan (redacted where they could be a
        # secret, cut when long); validators that quote the value are scrubbed the same way.
        message = secret_scan.scrub(item["msg"].removeprefix("Value error, "), item["input"], name)
        value = secret_scan.shown(item["input"], name)
        if item["type"] == "missing":
            if field not in explained:
                problems.append(f"{path}: {field}: missing required field")
        elif item["type"] == "extra_forbidden":
            closest = meant[field][1]
            hint = f"; did you mean {closest}?" if closest else ""
            problems.append(f"{path}: {field}: unknown field (value {value}){hint}")
        elif (item.get("ctx") or {}).get("redact"):
            # A section refused a value that may be a credential: never echo it.
            problems.append(f"{path}: {field}: {message} (value redacted)")
        else:
            problems.append(f"{path}: {field}: {message} (value {value})")
    return problems


def _dotted(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _closest(model: type[Model], loc: tuple) -> str | None:
    """The field beside ``loc``'s last key whose name is closest to it, if one is close."""
    candidates: list[type[BaseModel]] = [model]
    for part in loc[:-1]:
        # A list index or a mapping key (a model's name) stays on the same models.
        inner = [m for c in candidates if isinstance(part, str) and part in c.model_fields for m in _models_in(c.model_fields[part].annotation)]
        candidates = inner or candidates
    names = {name for c in candidates for name in c.model_fields}
    close = difflib.get_close_matches(str(loc[-1]), sorted(names), n=1, cutoff=0.75)
    return close[0] if close else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation holds: itself, or inside Optional, Annotated, tuple, dict..."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _parse(model: type[Model], path: Path) -> Model:
    data = read_mapping(path)
    # Secrets are refused where they are typed, before anything can repeat them.
    problems = [f"{path}: {finding}" for finding in secret_scan.scan(data)]
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        problems += _describe(path, exc, model)
    if problems:
        raise ConfigError(problems)
    return parsed


def load(config_dir: Path | str = "config") -> AppConfig:
    """Read and validate ``project.yaml`` and every ``<env>.yaml`` in ``config_dir``."""
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise ConfigError([f"{config_dir}: not a directory of configuration files"])
    project_path = config_dir / PROJECT_FILE
    if not project_path.exists() and not project_path.is_symlink():
        raise ConfigError([f"{project_path}: file not found"])
    project = _parse(ProjectConfig, project_path)

    environments: list[Environment] = []
    # Only <name>.yaml is read; a .yml file would otherwise be ignored without a word.
    problems: list[str] = [
        f"{path}: not read: configuration files end in .yaml (rename it to {path.stem}.yaml)"
        for path in sorted(config_dir.glob("*.yml"))
    ]
    for path in sorted(config_dir.glob("*.yaml")):
        if path.name == PROJECT_FILE:
            continue
        name = path.stem
        if not ENV_NAME_PATTERN.fullmatch(name):
            problems.append(
                f"{path}: environment name {name!r} breaks the naming scheme: "
                f"it must match {ENV_NAME_PATTERN.pattern} (lowercase letters and digits, 2-10 characters)"
            )
            continue
        try:
            environments.append(Environment(name, path, _parse(EnvironmentConfig, path)))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if not environments and not problems:
        problems.append(f"{config_dir}: no environment files (<env>.yaml) found")
    problems.extend(cross_checks.check_vpc_overlaps(environments))
    problems.extend(cross_checks.check_config_recorders(environments))
    problems.extend(cross_checks.check_force_destroy(environments))
    for env in environments:
        problems.extend(check_capacity(env))
    problems.extend(cross_checks.check_state_access(project, project_path, environments))
    problems.extend(cross_checks.check_github_oidc_providers(environments))
    if problems:
        raise ConfigError(problems)
    return AppConfig(project=project, environments=tuple(environments))

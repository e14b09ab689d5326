"""Run the Terraform CLI offline, against a local provider mirror.

Shared by ``make validate`` (:mod:`sophia_infra.validate`) and the end-to-end
test (``tests/e2e``). Only the standard library is used, so the e2e tooling can
import it without the cdktf dependencies.

The CLI configuration is written by the project (``build/terraform.rc``) rather
than read from the user's ``~/.terraformrc``: machines without registry access
carry the providers in a filesystem mirror, and the same file must work on a
developer's laptop and in CI. The mirror is ``$SOPHIA_TF_MIRROR`` if set, else
the first of :data:`MIRROR_CANDIDATES` that holds a provider.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MIRROR_ENV = "SOPHIA_TF_MIRROR"

# Where Terraform itself looks for implied local mirrors on Linux, plus the
# directory these build machines ship the aws provider in.
MIRROR_CANDIDATES = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)

DEFAULT_HOST = "registry.terraform.io"


class TerraformSetupError(Exception):
    """Terraform or its providers are not usable here; ``str()`` says what to do."""


@dataclass(frozen=True)
class Provider:
    """A provider address (``registry.terraform.io/hashicorp/aws``) and version."""

    address: str
    version: str

    @property
    def short(self) -> str:
        return self.address.removeprefix(f"{DEFAULT_HOST}/")


def provider_address(source: str) -> str:
    """Normalize a ``required_providers`` source the way Terraform does (``aws`` -> hashicorp/aws)."""
    parts = source.lower().split("/")
    if len(parts) == 1:
        return f"{DEFAULT_HOST}/hashicorp/{parts[0]}"
    if len(parts) == 2:
        return f"{DEFAULT_HOST}/{parts[0]}/{parts[1]}"
    return "/".join(parts)


def required_providers(config: dict) -> list[Provider]:
    """The providers a stack's configuration (its parsed ``cdk.tf.json``) requires, by name."""
    required = config.get("terraform", {}).get("required_providers", {})
    return [
        Provider(provider_address(spec.get("source", name)), str(spec.get("version", "")))
        for name, spec in sorted(required.items())
    ]


def mirror_providers(mirror: Path) -> set[Provider]:
    """Providers in a filesystem mirror with the unpacked layout ``HOST/NS/TYPE/VERSION/OS_ARCH/``."""
    found: set[Provider] = set()
    if not mirror.is_dir():
        return found
    for version_dir in mirror.glob("*/*/*/*"):
        if version_dir.is_dir() and any(version_dir.glob("*/terraform-provider-*")):
            host, namespace, name = version_dir.parts[-4:-1]
            found.add(Provider(f"{host}/{namespace}/{name}", version_dir.name))
    return found


def find_mirror() -> Path:
    """The provider mirror: ``$SOPHIA_TF_MIRROR`` or the first candidate holding a provider."""
    explicit = os.environ.get(MIRROR_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if not mirror_providers(path):
            raise TerraformSetupError(
                f"{MIRROR_ENV}={explicit!r} holds no provider "
                "(expected the unpacked layout registry.terraform.io/<namespace>/<type>/<version>/<os_arch>/)"
            )
        return path
    for candidate in MIRROR_CANDIDATES:
        path = Path(candidate).expanduser()
        if mirror_providers(path):
            return path
    raise TerraformSetupError(
        f"no Terraform provider mirror found in {', '.join(MIRROR_CANDIDATES)}; "
        f"set {MIRROR_ENV} to a directory made by `terraform providers mirror`"
    )


def write_cli_config(path: Path, mirror: Path, plugin_cache: Path) -> Path:
    """Write a CLI config that installs the mirror's providers from the mirror only.

    Providers not in the mirror fall through to ``direct`` (the registry), which
    fails offline with Terraform's own message; callers skip such stacks first.
    """
    addresses = sorted({p.address for p in mirror_providers(mirror)})
    listed = ", ".join(f'"{a}"' for a in addresses)
    plugin_cache.mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by sophia_infra/terraform_cli.py; do not edit.\n"
        f'plugin_cache_dir = "{plugin_cache.resolve()}"\n'
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror.resolve()}"\n'
        f"    include = [{listed}]\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = [{listed}]\n"
        "  }\n"
        "}\n"
    )
    return path


def terraform_binary() -> str:
    found = shutil.which("terraform")
    if not found:
        raise TerraformSetupError("terraform is not on PATH (install Terraform >= 1.10)")
    return found


def terraform_env(cli_config: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a non-interactive Terraform run with the project's CLI config."""
    env = dict(os.environ)
    env.update(
        TF_CLI_CONFIG_FILE=str(cli_config.resolve()),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
    )
    env.update(extra or {})
    return env


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``terraform <args>`` in ``cwd``; never raises on a non-zero exit."""
    return subprocess.run(
        [terraform_binary(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

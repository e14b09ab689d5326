"""Helpers that write configuration files for tests: plain YAML, no jsii, so that
background work (tests/background.py) may use them too."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import dump_yaml, load_yaml


def edit(config_dir: Path, file: str, change) -> Path:
    path = config_dir / file
    data = load_yaml(path.read_text())
    change(data)
    path.write_text(dump_yaml(data, sort_keys=False))
    return path


def move_to_account(d: dict, account: str, region: str | None = None) -> None:
    """Put an environment file's data in another account (and region): its runner's
    connection follows, and it leaves the account's GitHub OIDC provider to the one
    environment that was there."""
    old_account, old_region = d["aws"]["account_id"], d["aws"]["region"]
    region = region or old_region
    d["aws"].update(account_id=account, region=region)
    d["ci_runner"]["connection_arn"] = d["ci_runner"]["connection_arn"].replace(
        f":{old_region}:{old_account}:", f":{region}:{account}:"
    )
    d["baseline"]["github_oidc_provider"] = False


def add_environment(config_dir: Path, name: str) -> Path:
    """A copy of dev under another name, with its own account and address space."""
    shutil.copy(config_dir / "dev.yaml", config_dir / f"{name}.yaml")

    def own(d):
        d["aws"]["account_id"] = "444444444444"
        d["network"]["vpc_cidr"] = "10.40.0.0/16"
        d["state"]["role_arn"] = f"arn:aws:iam::111111111111:role/sophia-state-{name}"
        d["ci_runner"]["connection_arn"] = d["ci_runner"]["connection_arn"].replace(":111111111111:", ":444444444444:")

    return edit(config_dir, f"{name}.yaml", own)

"""Fixtures of the configuration tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A scratch copy of config/ to break."""
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    return target

"""The ``monitoring:`` config section: defaults, bounds and the M-of-N rule, with messages that name the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

import sophia_config as config_mod
from sophia_config.sections.monitoring import MonitoringConfig
from tests.conftest import dump_yaml, load_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_the_seed_values():
    settings = MonitoringConfig()
    assert settings.node_cpu_percent == 80
    assert settings.datapoints_to_alarm <= settings.evaluation_periods
    assert settings.period_seconds % 60 == 0


@pytest.mark.parametrize(
    "values, message",
    [
        ({"datapoints_to_alarm": 4, "evaluation_periods": 3}, "datapoints_to_alarm must be <= evaluation_periods"),
        ({"node_cpu_percent": 120}, "less than or equal to 100"),
        ({"period_seconds": 90}, "multiple of 60"),
        ({"log_components": ["api", "api"]}, "log_components must be unique"),
        ({"log_components": ["API"]}, "should match pattern"),
        ({"rds_max_connections": "100"}, "valid integer"),
        ({"unknown": 1}, "Extra inputs are not permitted"),
    ],
)
def test_rejects_bad_values(values, message):
    with pytest.raises(ValidationError, match=message):
        MonitoringConfig.model_validate(values)


def test_error_names_file_and_field(tmp_path):
    config_dir = tmp_path / "config"
    shutil.copytree(ROOT / "config", config_dir)
    dev = config_dir / "dev.yaml"
    data = load_yaml(dev.read_text())
    data["monitoring"]["datapoints_to_alarm"] = 5
    dev.write_text(dump_yaml(data))
    with pytest.raises(config_mod.ConfigError) as error:
        config_mod.load(config_dir)
    assert f"{dev}: monitoring: datapoints_to_alarm must be <= evaluation_periods" in str(error.value)


def test_every_environment_sets_the_section():
    for env in config_mod.load(ROOT / "config").environments:
        assert isinstance(env.config.monitoring, MonitoringConfig), env.name

"""Every bad configuration value is rejected with the file, the field path and the value."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import sophia_config as config
from sophia_config import ConfigError
from tests.config_files import add_environment, edit
from tests.conftest import ROOT


def rejected(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as info:
        config.load(config_dir)
    return str(info.value)


def test_committed_configuration_is_valid():
    app = config.load(ROOT / "config")
    assert [env.name for env in app.environments] == ["dev", "production", "staging"]
    assert app.environment("production").config.network.nat_strategy == "one_per_az"


def test_model_is_immutable():
    env = config.load(ROOT / "config").environment("dev")
    with pytest.raises(Exception, match="frozen"):
        env.config.network.az_count = 5  # type: ignore[misc]


def test_wrong_type(config_dir):
    path = edit(config_dir, "dev.yaml", lambda d: d["network"].__setitem__("az_count", "3"))
    message = rejected(config_dir)
    assert f"{path}: network.az_count:" in message
    assert "'3'" in message


def test_missing_field(config_dir):
    path = edit(config_dir, "staging.yaml", lambda d: d["aws"].pop("region"))
    assert f"{path}: aws.region: missing required field" in rejected(config_dir)


def test_unknown_field(config_dir):
    path = edit(config_dir, "dev.yaml", lambda d: d["network"].__setitem__("vpc_cird", "10.0.0.0/16"))
    message = rejected(config_dir)
    assert f"{path}: network.vpc_cird: unknown field" in message
    assert "10.0.0.0/16" in message


@pytest.mark.parametrize(
    "old, new, field, meant",
    [
        # required: without the hint, "aws.region: missing required field" came as well
        ("  region: us-west-2\n", "  regoin: us-west-2\n", "aws.regoin", "region"),
        ("  capacity_type: SPOT\n", "  capacty_type: SPOT\n", "gpu_nodes.capacty_type", "capacity_type"),
        # inside a list item and a library value's model
        ('      cpu_request: "500m"\n', '      cpu_requets: "500m"\n', "models.0.resources.cpu_requets", "cpu_request"),
        ("    iops: 3000\n", "    ipos: 3000\n", "gpu_nodes.root_volume.ipos", "iops"),
    ],
)
def test_a_mistyped_key_is_one_line_naming_the_field_it_likely_meant(config_dir, old, new, field, meant):
    path = config_dir / "dev.yaml"
    text = path.read_text()
    assert text.count(old) >= 1
    path.write_text(text.replace(old, new, 1))
    problems = rejected(config_dir).splitlines()
    about = [line for line in problems if f"{path}: " in line]
    assert len(about) == 1, problems
    assert about[0].startswith(f"{path}: {field}: unknown field (value ") and about[0].endswith(f"; did you mean {meant}?")


def test_an_unknown_key_like_no_field_gets_no_guess(config_dir):
    path = edit(config_dir, "dev.yaml", lambda d: d["network"].__setitem__("colour", "blue"))
    message = rejected(config_dir)
    assert f"{path}: network.colour: unknown field (value 'blue')" in message and "did you mean" not in message


@pytest.mark.parametrize("cidr", ["10.10.0.0/33", "10.10.0.1/16", "not-a-cidr", "10.10.0.0/8"])
def test_invalid_cidr(config_dir, cidr):
    path = edit(config_dir, "dev.yaml", lambda d: d["network"].__setitem__("vpc_cidr", cidr))
    message = rejected(config_dir)
    assert f"{path}: network.vpc_cidr:" in message
    assert repr(cidr) in message


def test_overlapping_vpc_cidrs_name_both_files(config_dir):
    path = edit(config_dir, "staging.yaml", lambda d: d["network"].__setitem__("vpc_cidr", "10.10.128.0/17"))
    message = rejected(config_dir)
    assert f"{path}: network.vpc_cidr: '10.10.128.0/17' overlaps '10.10.0.0/16'" in message
    assert str(config_dir / "dev.yaml") in message


def test_autoscaling_order(config_dir):
    path = edit(config_dir, "production.yaml", lambda d: d["compute"]["autoscaling"].update(min=6, desired=5))
    message = rejected(config_dir)
    assert f"{path}: compute.autoscaling:" in message
    assert "min=6, desired=5, max=20" in message


@pytest.mark.parametrize("name", ["Prod", "prod-eu", "p", "averyveryverylongname"])
def test_environment_name_must_fit_the_naming_scheme(config_dir, name):
    shutil.copy(config_dir / "dev.yaml", config_dir / f"{name}.yaml")
    message = rejected(config_dir)
    assert f"environment name {name!r} breaks the naming scheme" in message


def test_invalid_log_retention(config_dir):
    path = edit(config_dir, "dev.yaml", lambda d: d["logging"].__setitem__("retention_days", 31))
    assert f"{path}: logging.retention_days: CloudWatch Logs accepts only" in rejected(config_dir)


def test_all_problems_are_reported_together(config_dir):
    edit(config_dir, "dev.yaml", lambda d: d["network"].__setitem__("az_count", 0))
    edit(config_dir, "staging.yaml", lambda d: d["resilience"].__setitem__("multi_az", "no"))
    message = rejected(config_dir)
    assert "dev.yaml: network.az_count" in message and "staging.yaml: resilience.multi_az" in message


def test_not_yaml(config_dir):
    (config_dir / "dev.yaml").write_text("network: [unclosed\n")
    assert "dev.yaml: not valid YAML" in rejected(config_dir)


def test_unknown_environment():
    with pytest.raises(ConfigError, match="unknown environment 'qa' \\(known: dev, production, staging\\)"):
        config.load(ROOT / "config").environment("qa")


def test_a_new_file_adds_an_environment(config_dir):
    add_environment(config_dir, "qa")
    names = [env.name for env in config.load(config_dir).environments]
    assert names == ["dev", "production", "qa", "staging"]


@pytest.mark.parametrize(
    "key, change",
    [
        ("debug", lambda d: d.__setitem__("debug", True)),
        ("compute.instance_sizes.ml", lambda d: d["compute"]["instance_sizes"].__setitem__("ml", "g4dn.xlarge")),
    ],
)
def test_removed_fields_are_refused_by_name(config_dir, key, change):
    # debug was read nowhere; instance_sizes.ml repeated gpu_nodes.instance_types[0]. A file
    # that still carries them is told which line to delete instead of silently keeping it.
    path = edit(config_dir, "staging.yaml", change)
    assert f"{path}: {key}: unknown field" in rejected(config_dir)


def test_a_rule_of_a_library_value_reads_file_field_message_and_value(config_dir):
    # gpu_nodes.root_volume is the library's RootVolume: its own rule (gp3's 500 IOPS per GiB)
    # is reported like any other field's.
    path = edit(config_dir, "dev.yaml", lambda d: d["gpu_nodes"]["root_volume"].update(size_gib=20, iops=16000))
    assert (
        f"{path}: gpu_nodes.root_volume: RootVolume: iops 16000 exceeds 500 IOPS per GiB of a 20 GiB gp3 volume "
        "(value {'size_gib': 20, 'iops': 16000, 'throughput_mibps': 125})"
    ) in rejected(config_dir)
    path = edit(config_dir, "dev.yaml", lambda d: d["gpu_nodes"]["root_volume"].update(size_gib=20, iops=2000))
    assert f"{path}: gpu_nodes.root_volume.iops: Input should be greater than or equal to 3000 (value 2000)" in rejected(
        config_dir
    )


def test_model_registry_is_the_librarys_retention_with_its_cross_field_rule(config_dir):
    # The config now refuses what only the construct refused before (after the file was forgotten).
    path = edit(config_dir, "dev.yaml", lambda d: d["model_registry"].update(artifacts_noncurrent_expiry_days=30))
    message = rejected(config_dir)
    assert f"{path}: model_registry: RegistryRetention: artifacts_noncurrent_expiry_days (30) must be greater than " in message
    path = edit(config_dir, "dev.yaml", lambda d: d["model_registry"].update(keep_last_releases=0))
    assert f"{path}: model_registry.keep_last_releases: Input should be greater than or equal to 1 (value 0)" in rejected(
        config_dir
    )

"""The configuration is read strictly: ``file: problem`` for any file that is not a small,
UTF-8 YAML mapping written out in full, and no value that could be a secret repeated."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

import sophia_config as config
from sophia_config import ConfigError
from tests.config.test_model import rejected
from tests.config_files import edit
from tests.conftest import ROOT


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    return target


def test_a_duplicate_top_level_key_is_refused(config_dir):
    """A second ``logging:`` in production.yaml took log retention from 90 days to 1."""
    path = config_dir / "production.yaml"
    path.write_text(path.read_text() + "logging:\n  retention_days: 1\n")
    message = rejected(config_dir)
    first = next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith("logging:"))
    assert f"{path}: line {len(path.read_text().splitlines()) - 1}: duplicate key 'logging' (first at line {first})" in message


def test_a_duplicate_nested_key_is_refused(config_dir):
    path = config_dir / "dev.yaml"
    path.write_text(path.read_text().replace("  retention_days: 30\n", "  retention_days: 30\n  retention_days: 1\n"))
    assert "duplicate key 'retention_days'" in rejected(config_dir)


def alias_bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "unknown_section:\n" + "\n".join(f"  {line}" for line in lines) + "\n"


def test_an_alias_bomb_is_refused_at_once_with_a_short_message(config_dir):
    path = config_dir / "dev.yaml"
    path.write_text(path.read_text() + alias_bomb(7))  # 10^7 leaves: an 80 MB message before
    started = time.monotonic()
    message = rejected(config_dir)
    assert time.monotonic() - started < 5
    assert len(message) < 1000
    assert f"{path}: line {len(path.read_text().splitlines()) - 6}: YAML anchor &a0 is not allowed" in message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("debug: &flag true\n", "YAML anchor &flag is not allowed"),
        ("x: *nothing\n", "YAML alias *nothing is not allowed"),
        ("base: {a: 1}\nother:\n  <<: {b: 2}\n", "YAML merge key << is not allowed"),
    ],
)
def test_anchors_aliases_and_merge_keys_are_refused(config_dir, text, needle):
    path = config_dir / "dev.yaml"
    path.write_text(path.read_text() + text)
    assert needle in rejected(config_dir)


def test_an_environment_file_that_is_a_directory(config_dir):
    (config_dir / "qa.yaml").mkdir()
    assert f"{config_dir / 'qa.yaml'}: is a directory, not a configuration file" in rejected(config_dir)


def test_an_unreadable_environment_file(config_dir):
    (config_dir / "qa.yaml").symlink_to(config_dir / "gone.yaml")
    assert f"{config_dir / 'qa.yaml'}: unreadable: no such file (a broken symbolic link?)" in rejected(config_dir)


def test_a_file_without_read_permission(config_dir, monkeypatch):
    # Tests may run as root, for whom chmod 000 changes nothing: make open() refuse instead.
    original = Path.open
    target = config_dir / "staging.yaml"

    def refuse(self, *args, **kwargs):
        if self == target:
            raise PermissionError(13, "Permission denied")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    assert f"{target}: unreadable: permission denied" in rejected(config_dir)


def test_a_file_that_is_not_utf8_is_named(config_dir):
    path = config_dir / "dev.yaml"
    path.write_bytes(path.read_bytes().replace(b"owner", b"owner") + b"# caf\xe9\n")
    message = rejected(config_dir)
    assert message.startswith(f"{path}: not UTF-8 text: byte 0xe9 on line ")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "empty: expected a mapping of settings"),
        ("# only a comment\n", "empty: expected a mapping of settings"),
        ("- a\n- b\n", "expected a mapping of settings at the top level, got a list"),
        ("just text\n", "expected a mapping of settings at the top level, got a str"),
    ],
)
def test_empty_files_and_wrong_top_level_types(config_dir, content, needle):
    (config_dir / "staging.yaml").write_text(content)
    assert f"{config_dir / 'staging.yaml'}: {needle}" in rejected(config_dir)


def test_a_yml_file_is_refused_not_ignored(config_dir):
    (config_dir / "qa.yml").write_text((config_dir / "dev.yaml").read_text())
    message = rejected(config_dir)
    assert f"{config_dir / 'qa.yml'}: not read: configuration files end in .yaml (rename it to qa.yaml)" in message


def test_error_text_is_bounded(config_dir):
    edit(config_dir, "dev.yaml", lambda d: d.__setitem__("junk", ["y" * 50] * 5000))
    edit(config_dir, "staging.yaml", lambda d: d.update({f"unknown_{i}": i for i in range(100)}))
    message = rejected(config_dir)
    assert len(message) < 20_000
    assert "more problems" in message
    assert all(len(line) <= 1000 for line in message.splitlines())


def test_a_missing_configuration_folder(tmp_path):
    with pytest.raises(ConfigError, match="not a directory of configuration files"):
        config.load(tmp_path / "nowhere")


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "config").glob("*.yaml")))
def test_libyaml_reads_each_configuration_file_as_pyyaml_does(name):
    import yaml

    from sophia_config import reader

    text = (ROOT / "config" / name).read_text()
    fast = reader._load(text)
    assert fast == yaml.load(text, Loader=reader.StrictLoader)  # noqa: S506 - a SafeLoader
    assert fast == yaml.load(text, Loader=reader._FastStrictLoader)  # noqa: S506 - a SafeLoader


@pytest.mark.parametrize("text", ["note: bell \x07 here\n", "note: [unclosed\n", "oops: a: b\n"])
def test_a_file_libyaml_flags_is_reported_with_pyyamls_message(config_dir, text):
    import yaml

    from sophia_config import reader

    path = config_dir / "dev.yaml"
    path.write_text(path.read_text() + text)
    with pytest.raises(yaml.YAMLError) as pure:
        yaml.load(path.read_text(), Loader=reader.StrictLoader)  # noqa: S506 - a SafeLoader
    assert reader._yaml_problem(path, pure.value) in rejected(config_dir)

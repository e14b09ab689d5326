"""The AI config sections: models: and vector_db:."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from sophia_config import ConfigError, load
from sophia_config.sections.models import ModelConfig
from sophia_config.sections.vector_db import VectorDbConfig
from tests.conftest import dump_yaml, load_yaml

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


MODEL = {
    "name": "bert-base",
    "version": "1.0.0",
    "image": "bert-base-1.0.0",
    "gpu_enabled": False,
    "min_replicas": 1,
    "max_replicas": 3,
    "cpu_target_percent": 70,
    "memory_target_percent": 80,
    "resources": {"cpu_request": "500m", "memory_request": "1Gi", "cpu_limit": "1", "memory_limit": "2Gi"},
    "latency_threshold_ms": 200,
    "pod_disruption_budget": False,
}
VECTOR_DB = {
    "engine_version": "OpenSearch_2.19",
    "instance_type": "r6g.large.search",
    "instance_count": 3,
    "volume_size_gb": 100,
    "availability_zones": 3,
    "dedicated_master_count": 3,
    "dedicated_master_type": "m6g.large.search",
    "automated_snapshot_start_hour": 2,
}


def with_(base: dict, **changes) -> dict:
    data = copy.deepcopy(base)
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_replicas": 4}, "min_replicas must be <= max_replicas, got min_replicas=4, max_replicas=3"),
        ({"name": "BERT_base"}, "String should match pattern"),
        ({"image": "latest"}, "'latest' is not a release"),
        ({"image": "sha256:abc"}, "must be an image tag"),
        ({"image": "roberta-large-1.0.0"}, "image tag must start with 'bert-base-'"),
        ({"cpu_target_percent": 0}, "greater than or equal to 1"),
        ({"memory_target_percent": 101}, "less than or equal to 100"),
    ],
)
def test_model_config_rejects(changes, message):
    with pytest.raises(ValidationError, match=message):
        ModelConfig.model_validate(with_(MODEL, **changes))


def test_model_image_reference_uses_tag_or_digest():
    assert ModelConfig.model_validate(MODEL).image_reference("repo") == "repo:bert-base-1.0.0"
    digest = "sha256:" + "0" * 64
    assert ModelConfig.model_validate(with_(MODEL, image=digest)).image_reference("repo") == f"repo@{digest}"


def test_duplicate_model_names_are_refused(tmp_path):
    for path in ("project.yaml", "dev.yaml"):
        shutil.copy(CONFIG_DIR / path, tmp_path / path)
    data = load_yaml((tmp_path / "dev.yaml").read_text())
    data["models"].append(copy.deepcopy(data["models"][0]))
    (tmp_path / "dev.yaml").write_text(dump_yaml(data))
    with pytest.raises(ConfigError, match=r"dev.yaml: models: model names must be unique, got duplicates \['bert-base'\]"):
        load(tmp_path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"instance_count": 4}, "instance_count must be a multiple of availability_zones, got instance_count=4, availability_zones=3"),
        ({"dedicated_master_count": 2}, "dedicated_master_count\n  Input should be 0, 3 or 5"),
        ({"availability_zones": 4}, "availability_zones\n  Input should be 1, 2 or 3"),
        ({"volume_iops": 16001}, "volume_iops\n  Input should be less than or equal to 16000"),
        ({"dedicated_master_type": None}, "dedicated_master_type is required with dedicated_master_count=3"),
        ({"instance_type": "r6g.large"}, "must be an OpenSearch type ending in '.search'"),
        ({"engine_version": "Elasticsearch_7.10"}, "String should match pattern"),
    ],
)
def test_vector_db_config_rejects(changes, message):
    with pytest.raises(ValidationError, match=message):
        VectorDbConfig.model_validate(with_(VECTOR_DB, **changes))


def test_every_environment_configures_the_seed_models():
    for env in load(CONFIG_DIR).environments:
        models = {m.name: m for m in env.config.models}
        assert set(models) == {"bert-base", "roberta-large", "gpt-j"}, env.name
        assert [n for n, m in models.items() if m.gpu_enabled] == ["gpt-j"], env.name

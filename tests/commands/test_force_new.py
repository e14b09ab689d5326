"""The review's force-new tables: generated from the providers' own facts
(``tools/gen_force_new.py``), covering every resource type the app synthesizes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from sophia_infra.review import aws_facts, diff
from tests.conftest import ROOT


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_force_new", ROOT / "tools" / "gen_force_new.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def synthesized_types(outdir: Path) -> set[str]:
    types: set[str] = set()
    for stack in outdir.glob("stacks/*/cdk.tf.json"):
        types |= set(json.loads(stack.read_text()).get("resource", {}))
    return types


def test_every_synthesized_type_is_covered_by_a_generated_table(synth_outdir):
    tables = {path.name: json.loads(path.read_text()) for path in aws_facts.FORCE_TABLES if path.is_file()}
    covered = {rtype for table in tables.values() for rtype in table["types"]}
    missing = synthesized_types(synth_outdir) - covered
    assert not missing, f"run tools/gen_force_new.py for: {sorted(missing)}"


def test_the_kubernetes_table_names_the_source_files_it_read():
    table = json.loads((ROOT / "sophia_infra" / "review" / "force_new_kubernetes.json").read_text())
    assert table["version"] == "2.38.0" and table["provider"] == "registry.terraform.io/hashicorp/kubernetes"
    assert all("@" in line or "index id" in line for line in table["source_files"].values())
    assert "metadata.name" in table["types"]["kubernetes_deployment_v1"]["force_new"]


def test_the_aws_table_names_its_source_and_matches_the_pinned_provider(synth_outdir):
    table = json.loads((ROOT / "sophia_infra" / "review" / "force_new_aws.json").read_text())
    pinned = json.loads((synth_outdir / "stacks" / "data-dev" / "cdk.tf.json").read_text())["terraform"]["required_providers"]["aws"]
    assert table["version"] == pinned["version"] == "5.100.0"
    assert table["provider"] == "registry.terraform.io/hashicorp/aws" and "5.100.0 provider binary" in table["source"]
    assert all(facts["probed"] for facts in table["types"].values())


def test_provider_facts_drive_the_review():
    assert diff.forces_new("aws_ecr_repository", "encryption_configuration[0].encryption_type")
    assert diff.forces_new("aws_ecr_repository", "encryption_configuration[0].kms_key")
    assert not diff.forces_new("aws_ecr_repository", "image_tag_mutability")
    assert diff.forces_new("aws_db_instance", "storage_encrypted") and not diff.forces_new("aws_db_instance", "identifier")
    assert diff.forces_new("aws_vpc_security_group_ingress_rule", "security_group_id")  # a framework resource
    assert diff.forces_new("kubernetes_deployment_v1", "metadata[0].name")
    assert diff.forces_new("kubernetes_deployment_v1", "spec[0].selector[0].match_labels.app")
    assert not diff.forces_new("kubernetes_deployment_v1", "spec[0].replicas")


def test_generator_makes_references_literal_and_one_probe_per_attribute():
    gen = load_generator()
    block = {
        "attributes": {
            "name": {"type": "string", "required": True},
            "kms_key_id": {"type": "string", "optional": True},
            "subnet_ids": {"type": ["set", "string"], "optional": True},
            "size": {"type": "number", "optional": True},
            "description": {"type": "string", "optional": True},
            "arn": {"type": "string", "computed": True},
        },
        "block_types": {"encryption": {"block": {"attributes": {"type": {"type": "string", "optional": True}}}}},
    }
    body = {
        "name": "db",
        "kms_key_id": "${aws_kms_key.data.arn}",
        "subnet_ids": "${data.terraform_remote_state.net.outputs.ids}",
        "size": "${var.size}",
        "encryption": {"type": "KMS"},
        "lifecycle": {"prevent_destroy": True},
        "//": {"metadata": {}},
    }
    config = gen.literal_config(body, block)
    assert config == {"name": "db", "kms_key_id": gen.DUMMY_ARN, "subnet_ids": ["probe"], "size": 1, "encryption": [{"type": "KMS"}]}
    cases = {path: state for path, conf, state in gen.probes(config, block)}
    assert set(cases) == {"name", "kms_key_id", "subnet_ids", "size", "encryption.type", "description"}
    assert cases["encryption.type"]["encryption"] == [{"type": "KMS-probe"}]
    assert cases["description"]["description"] == "probe" and "description" not in config


SYNTHETIC_GO = """
package kubernetes

func resourceThing() *schema.Resource {
	return &schema.Resource{
		Schema: map[string]*schema.Schema{
			"name": {Type: schema.TypeString, Required: true, ForceNew: true},
			"size": {Type: schema.TypeInt, Optional: true},
			"spec": {
				Type: schema.TypeList,
				Elem: &schema.Resource{
					Schema: map[string]*schema.Schema{
						"selector": {Type: schema.TypeMap, ForceNew: true},
						"template": {Type: schema.TypeList, Elem: &schema.Resource{Schema: podFields(true)}},
					},
				},
			},
			"mode": modeSchema(false),
			"metadata": namespacedMeta("thing"),
			"labels": markNew(labelsSchema()),
		},
	}
}

func podFields(isUpdatable bool) map[string]*schema.Schema {
	return map[string]*schema.Schema{
		"image": {Type: schema.TypeString, ForceNew: !isUpdatable},
		"node": {Type: schema.TypeString, ForceNew: true},
	}
}

func metaFields(objectName string) map[string]*schema.Schema {
	return map[string]*schema.Schema{
		"name": {Type: schema.TypeString, ForceNew: true},
		"labels": {Type: schema.TypeMap},
	}
}

func namespacedMeta(objectName string) *schema.Schema {
	return namespacedMetaIsTemplate(objectName, false)
}

func namespacedMetaIsTemplate(objectName string, isTemplate bool) *schema.Schema {
	fields := metaFields(objectName)
	fields["namespace"] = &schema.Schema{Type: schema.TypeString, ForceNew: true}
	fields["labels"].ForceNew = true
	return &schema.Schema{Type: schema.TypeList, Elem: &schema.Resource{Schema: fields}}
}

func labelsSchema() *schema.Schema {
	return &schema.Schema{Type: schema.TypeMap}
}

func markNew(s *schema.Schema) *schema.Schema {
	s.ForceNew = true
	return s
}

func modeSchema(isUpdatable bool) *schema.Schema {
	return &schema.Schema{Type: schema.TypeString, ForceNew: !isUpdatable}
}
"""


def test_generator_reads_force_new_from_go_source(tmp_path):
    gen = load_generator()
    (tmp_path / "thing.go").write_text(SYNTHETIC_GO)
    schemas = gen.GoSchemas(tmp_path)
    assert schemas.resource("resourceThing") == {
        "name", "spec.selector", "spec.template.node", "mode",
        "metadata.name", "metadata.namespace", "metadata.labels", "labels",
    }  # fmt: skip
    assert schemas.unresolved == set()

"""The emulator's override logic on small synthetic stacks (runs in ``make test``; no emulator needed)."""

from __future__ import annotations

import pytest

from sophia_infra.emulator import overrides, server
from sophia_infra.emulator.local import with_dependencies
from sophia_infra.emulator.session import deploy_order, managed_resources

CLUSTER = "${aws_eks_cluster.cluster_A1.name}"


def compute_like() -> dict:
    return {
        "resource": {
            "aws_eks_cluster": {"cluster_A1": {"name": "c"}},
            "aws_eks_addon": {"addon-vpc-cni_B2": {"cluster_name": CLUSTER, "addon_name": "vpc-cni"}},
            "aws_eks_access_entry": {"admin_C3": {"cluster_name": CLUSTER, "principal_arn": "arn:aws:iam::1:role/a"}},
            "aws_eks_access_policy_association": {
                "admin-policy_D4": {"cluster_name": CLUSTER, "principal_arn": "${aws_eks_access_entry.admin_C3.principal_arn}"}
            },
            "aws_eks_node_group": {
                "nodes_E5": {"cluster_name": CLUSTER, "depends_on": ["aws_eks_addon.addon-vpc-cni_B2"]}
            },
            # Not a limitation of its own: it reads an excluded resource, so it goes too.
            "aws_ssm_parameter": {"entry_F6": {"name": "p", "value": "${aws_eks_access_entry.admin_C3.access_entry_arn}"}},
            "aws_kms_key": {"key_G7": {"lifecycle": {"ignore_changes": ["tags"]}}},
            "aws_launch_template": {"lt_H8": {"name": "lt"}},
        },
        "data": {
            "aws_iam_policy_document": {"doc_I9": {"statement": [{"resources": ["${aws_ssm_parameter.entry_F6.arn}"]}]}}
        },
        "output": {
            "entry_arn": {"value": "${aws_eks_access_entry.admin_C3.access_entry_arn}"},
            "cluster_name": {"value": CLUSTER},
        },
    }


def test_excluded_types_and_what_refers_to_them_are_left_out():
    plan = overrides.plan_stack("compute-dev", compute_like())
    assert set(plan.excluded) == {
        "aws_eks_addon.addon-vpc-cni_B2",
        "aws_eks_access_entry.admin_C3",
        "aws_eks_access_policy_association.admin-policy_D4",
        "aws_ssm_parameter.entry_F6",
        "data.aws_iam_policy_document.doc_I9",
    }
    assert plan.excluded["aws_ssm_parameter.entry_F6"] == "needs aws_eks_access_entry.admin_C3, which is excluded"
    assert "no EKS add-on API" in plan.excluded["aws_eks_addon.addon-vpc-cni_B2"]
    # A depends_on an excluded resource is fine (count = 0): the node group stays.
    assert "aws_eks_node_group.nodes_E5" not in plan.excluded
    assert plan.excluded_resources == [a for a in plan.excluded if not a.startswith("data.")]
    resources = plan.override["resource"]
    assert resources["aws_eks_addon"]["addon-vpc-cni_B2"] == {"count": 0}
    assert plan.override["data"]["aws_iam_policy_document"]["doc_I9"] == {
        "count": 0,
        "statement": [{"resources": ["${aws_ssm_parameter.entry_F6[0].arn}"]}],
    }


def test_references_among_excluded_resources_point_at_their_absent_first_instance():
    association = overrides.plan_stack("compute-dev", compute_like()).override["resource"]["aws_eks_access_policy_association"]
    # Terraform validates an excluded resource's arguments; `x.y[0]` is unknown there, and never evaluated.
    assert association["admin-policy_D4"] == {"count": 0, "principal_arn": "${aws_eks_access_entry.admin_C3[0].principal_arn}"}


def test_outputs_that_need_an_excluded_resource_read_a_placeholder_not_null():
    plan = overrides.plan_stack("compute-dev", compute_like())
    assert plan.override["output"] == {"entry_arn": {"value": overrides.EXCLUDED_OUTPUT}}
    assert plan.replaced_outputs == {"entry_arn": "needs aws_eks_access_entry.admin_C3 (excluded)"}


def test_ignore_changes_keep_what_the_stack_ignores_and_add_every_entry():
    plan = overrides.plan_stack("compute-dev", compute_like())
    resources = plan.override["resource"]
    assert resources["aws_kms_key"]["key_G7"]["lifecycle"]["ignore_changes"] == ["tags", "rotation_period_in_days"]
    # Two entries for launch templates (two moto limitations) add up.
    assert resources["aws_launch_template"]["lt_H8"]["lifecycle"]["ignore_changes"] == ["vpc_security_group_ids", "tag_specifications"]
    assert all(reason for reason in plan.adjusted.values())


def test_exclusions_scoped_to_a_stack_and_to_names():
    database = {"resource": {"aws_db_instance": {"postgres_blue_instance_1": {}, "postgres_green_instance_2": {}}}}
    assert list(overrides.plan_stack("data-dev", database).excluded) == ["aws_db_instance.postgres_green_instance_2"]
    assert overrides.plan_stack("data-staging", database).excluded == {}
    policy = {"resource": {"aws_s3_bucket_policy": {"p": {}}}}
    assert list(overrides.plan_stack("state-bootstrap", policy).excluded) == ["aws_s3_bucket_policy.p"]
    assert overrides.plan_stack("shared-dev", policy).excluded == {}


def test_a_resource_with_its_own_count_is_not_silently_overridden():
    stack = {"resource": {"aws_eks_addon": {"a": {"for_each": "${toset([\"x\"])}"}}}}
    with pytest.raises(ValueError, match="already sets count/for_each"):
        overrides.plan_stack("compute-dev", stack)


def test_kubernetes_stacks_are_skipped_with_the_reason():
    plan = overrides.plan_stack("ai-workloads-dev", {"resource": {"kubernetes_namespace_v1": {"n": {}}}})
    assert "Kubernetes API" in plan.skipped and plan.override == {}


def test_write_override_writes_only_when_there_is_something(tmp_path):
    assert overrides.write_override(tmp_path, overrides.plan_stack("x-dev", {"resource": {}})) is None
    path = overrides.write_override(tmp_path, overrides.plan_stack("compute-dev", compute_like()))
    assert path == tmp_path / overrides.OVERRIDE_FILE and path.read_text().endswith("}\n")


def test_deploy_order_follows_dependencies_and_is_stable():
    graph = {"security-dev": [], "networking-dev": ["security-dev"], "shared-dev": ["security-dev"],
             "compute-dev": ["security-dev", "networking-dev"], "data-dev": ["compute-dev"]}  # fmt: skip
    assert deploy_order(graph, list(graph)) == ["security-dev", "networking-dev", "compute-dev", "data-dev", "shared-dev"]
    assert with_dependencies(graph, ["data-dev"]) == {"data-dev", "compute-dev", "networking-dev", "security-dev"}
    with pytest.raises(ValueError, match="cycle"):
        deploy_order({"a": ["b"], "b": ["a"]}, ["a", "b"])


def test_managed_resources_lists_instances_of_managed_resources_only():
    state = {"resources": [
        {"mode": "managed", "type": "aws_kms_key", "name": "k", "instances": [{}]},
        {"mode": "managed", "type": "aws_eks_addon", "name": "a", "instances": []},
        {"mode": "data", "type": "aws_partition", "name": "p", "instances": [{}]},
    ]}  # fmt: skip
    assert managed_resources(state) == ["aws_kms_key.k"]
    assert managed_resources(None) == []


def test_a_developers_aws_settings_never_reach_the_emulator_or_terraform():
    env = server.without_aws_settings({"AWS_PROFILE": "prod", "AWS_ENDPOINT_URL": "https://x", "PATH": "/bin"})
    assert env["PATH"] == "/bin" and "AWS_PROFILE" not in env and "AWS_ENDPOINT_URL" not in env
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == "/dev/null"

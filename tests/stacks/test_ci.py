"""The in-VPC runner of every environment, as synthesized: in the private subnets,
admitted to the cluster's API and nothing else, named as the workflows address it."""

from __future__ import annotations

import pytest

import sophia_config as config
from constructs_lib.naming import Naming
from tests.conftest import ROOT

APP = config.load(ROOT / "config")
ENVIRONMENTS = [env.name for env in APP.environments]


def only(resources: dict) -> dict:
    (value,) = resources.values()
    return value


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_runner_runs_in_the_private_subnets_of_its_environment(stack_json, env):
    stack = stack_json(f"ci-{env}")
    project = only(stack["resource"]["aws_codebuild_project"])
    remote = f"${{data.terraform_remote_state.cross-stack-reference-input-networking-{env}.outputs."
    assert project["vpc_config"]["vpc_id"].startswith(remote)
    subnets = project["vpc_config"]["subnets"]
    assert subnets and all(s.startswith(remote) and "private" in s for s in subnets)
    assert project["source"]["auth"]["resource"] == APP.environment(env).config.ci_runner.connection_arn
    assert project["source"]["location"] == f"https://github.com/{APP.project.github.repository}.git"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_runner_is_admitted_to_the_cluster_api_and_nowhere_else(stack_json, env):
    stack = stack_json(f"ci-{env}")
    (rule,) = stack["resource"]["aws_vpc_security_group_ingress_rule"].values()
    # The security group EKS made for the control plane (the cluster's endpoint interfaces).
    assert rule["security_group_id"].startswith(f"${{data.terraform_remote_state.cross-stack-reference-input-compute-{env}.")
    assert rule["security_group_id"].endswith("vpc_config0cluster_security_group_id}")
    assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (443, 443, "tcp")
    # Nothing else admits the runner: no other stack names its group.
    for function in ("data", "ai-ml", "networking"):
        assert "cross-stack-reference-input-ci-" not in str(stack_json(f"{function}-{env}"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_project_name_is_the_one_the_workflows_address(stack_json, env):
    project = only(stack_json(f"ci-{env}")["resource"]["aws_codebuild_project"])
    assert project["name"] == Naming(APP.project.name, env).name("ci", "runner")
    assert project["name"] == f"sophia-ci-runner-{env}"  # the runs-on label in .github/workflows

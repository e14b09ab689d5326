"""No dangling names: every metric the monitoring stack plots or alarms on names something
the app really declares.

The monitoring stack reads names from other stacks, so its JSON holds references
such as ``${data.terraform_remote_state.cross-stack-reference-input-compute-dev.outputs.X}``.
The resolver below follows each one to the upstream stack's output, then to the
resource attribute it exposes, and so on until a literal or a computed attribute
of a declared resource. A dimension passes only if that chain ends at (or its
literal value equals the name of) a resource of the expected type declared in the
same environment: an EKS node group for an Auto Scaling group, an EKS cluster, an
OpenSearch domain, an RDS instance; models must be configured; ClientId must be
the environment's account.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import sophia_config as config_mod
from tests.conftest import ROOT

# Environment files, read without validation so that collection never depends on the config.
ENVIRONMENTS = sorted(p.stem for p in (ROOT / "config").glob("*.yaml") if p.name != config_mod.PROJECT_FILE)

_REFERENCE = re.compile(r"^\$\{([^${}]+)\}$")
_REMOTE = re.compile(r"^data\.terraform_remote_state\.cross-stack-reference-input-(?P<stack>[^.]+)\.outputs\.(?P<output>[^.]+)$")
_ADDRESS = re.compile(r"^(?P<data>data\.)?(?P<type>[a-z0-9_]+)\.(?P<name>[A-Za-z0-9_-]+)\.(?P<attr>.+)$")

# Dimension -> (resource type, attribute that holds the name).
DECLARING_RESOURCE = {
    "ClusterName": ("aws_eks_cluster", "name"),
    "DomainName": ("aws_opensearch_domain", "domain_name"),
    "DBInstanceIdentifier": ("aws_db_instance", "identifier"),
}


@dataclass(frozen=True)
class Step:
    stack: str
    kind: str
    """``resource``, ``data`` or ``output``."""
    type: str
    name: str
    attribute: str


@dataclass
class Resolved:
    value: str | None
    """The literal name, or None when it is a computed attribute known only after apply."""
    chain: list[Step] = field(default_factory=list)
    problem: str | None = None


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "//"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


class App:
    """The synthesized stacks of one output directory."""

    def __init__(self, outdir: Path):
        self.stacks = {
            path.name: _strip(json.loads((path / "cdk.tf.json").read_text()))
            for path in sorted((outdir / "stacks").iterdir())
            if (path / "cdk.tf.json").is_file()
        }

    def env_stacks(self, env: str) -> dict[str, dict]:
        return {name: body for name, body in self.stacks.items() if name.endswith(f"-{env}")}

    def resolve(self, stack: str, value, depth: int = 0) -> Resolved:
        if depth > 20:
            return Resolved(None, problem=f"reference loop at {value!r}")
        if not isinstance(value, str):
            return Resolved(None, problem=f"not a string: {value!r}")
        if "${" not in value:
            return Resolved(value)
        match = _REFERENCE.fullmatch(value)
        if not match:
            return Resolved(None, problem=f"{stack}: {value!r} is not a single reference")
        expression = match.group(1)

        remote = _REMOTE.fullmatch(expression)
        if remote:
            upstream, output = remote.group("stack"), remote.group("output")
            outputs = self.stacks.get(upstream, {}).get("output", {})
            if output not in outputs:
                return Resolved(None, problem=f"{stack}: {upstream} has no output {output!r}")
            inner = self.resolve(upstream, outputs[output]["value"], depth + 1)
            inner.chain.insert(0, Step(upstream, "output", "output", output, "value"))
            return inner

        address = _ADDRESS.fullmatch(expression)
        if not address:
            return Resolved(None, problem=f"{stack}: cannot follow {value!r}")
        kind = "data" if address.group("data") else "resource"
        rtype, name, attribute = address.group("type"), address.group("name"), address.group("attr")
        block = self.stacks[stack].get(kind, {}).get(rtype, {}).get(name)
        if block is None:
            return Resolved(None, problem=f"{stack}: {value!r} names an undeclared {kind} {rtype}.{name}")
        step = Step(stack, kind, rtype, name, attribute)
        if attribute in block:  # an argument: follow it to its own value
            inner = self.resolve(stack, block[attribute], depth + 1)
            inner.chain.insert(0, step)
            return inner
        return Resolved(None, chain=[step])  # computed by the provider (an ARN, an ASG name)

    def declared(self, env: str, rtype: str, attribute: str) -> dict[str, Step]:
        """Literal ``attribute`` values of every ``rtype`` resource of ``env`` -> where declared."""
        found = {}
        for stack, body in self.env_stacks(env).items():
            for name, block in body.get("resource", {}).get(rtype, {}).items():
                resolved = self.resolve(stack, block.get(attribute))
                if resolved.value is not None:
                    found[resolved.value] = Step(stack, "resource", rtype, name, attribute)
        return found

    def check_declared(self, env: str, stack: str, value: str, rtype: str, attribute: str) -> str | None:
        """None if ``value`` (in ``stack``) names a ``rtype`` that ``env`` declares, else the problem."""
        resolved = self.resolve(stack, value)
        if resolved.problem:
            return resolved.problem
        if any(s.kind == "resource" and s.type == rtype and s.stack.endswith(f"-{env}") for s in resolved.chain):
            return None
        if resolved.value is not None and resolved.value in self.declared(env, rtype, attribute):
            return None
        return f"{value!r} (resolved to {resolved.value!r}) names no {rtype} declared in {env}"

    def check_node_group_asg(self, env: str, stack: str, value: str) -> str | None:
        """An ASG name must be a managed node group's ASG, read from a declared node group."""
        resolved = self.resolve(stack, value)
        if resolved.problem:
            return resolved.problem
        last = resolved.chain[-1] if resolved.chain else None
        if last is None or last.type != "aws_eks_node_group" or not last.attribute.startswith("resources[0].autoscaling_groups"):
            return f"{value!r} is not the Auto Scaling group of an EKS node group"
        if last.kind == "resource":
            return None
        # A data source looked up by cluster and node group name: both must be declared, together.
        lookup = self.stacks[last.stack]["data"]["aws_eks_node_group"][last.name]
        problem = self.check_declared(env, last.stack, lookup["cluster_name"], "aws_eks_cluster", "name")
        if problem:
            return f"node group lookup {last.name}: cluster {problem}"
        group_name = self.resolve(last.stack, lookup["node_group_name"])
        cluster_name = self.resolve(last.stack, lookup["cluster_name"])
        for up_stack, body in self.env_stacks(env).items():
            for block in body.get("resource", {}).get("aws_eks_node_group", {}).values():
                if (
                    _same(self.resolve(up_stack, block.get("node_group_name")), group_name)
                    and _same(self.resolve(up_stack, block.get("cluster_name")), cluster_name)
                ):
                    return None
        return f"node group lookup {last.name}: {group_name.value!r} in {cluster_name.value!r} is declared by no stack of {env}"


def _same(a: Resolved, b: Resolved) -> bool:
    if a.value is not None and b.value is not None:
        return a.value == b.value
    # Both computed: the same attribute of the same resource.
    return bool(a.chain and b.chain) and a.chain[-1] == b.chain[-1]


@dataclass(frozen=True)
class Use:
    where: str
    namespace: str
    metric: str
    dimensions: dict[str, str]


def dashboard_uses(body: dict) -> list[Use]:
    uses = []
    for index, widget in enumerate(body["widgets"]):
        if widget["type"] != "metric":
            continue
        for line in widget["properties"]["metrics"]:
            parts = [part for part in line if not isinstance(part, dict)]
            assert len(parts) % 2 == 0 and parts[0] != ".", f"widget {index}: unexpected metric line {line!r}"
            dims = dict(zip(parts[2::2], parts[3::2]))
            uses.append(Use(f"dashboard widget {index} ({widget['properties'].get('title')})", parts[0], parts[1], dims))
    return uses


def alarm_uses(stack: dict) -> list[Use]:
    return [
        Use(f"alarm {alarm['alarm_name']}", alarm["namespace"], alarm["metric_name"], alarm.get("dimensions", {}))
        for alarm in stack.get("resource", {}).get("aws_cloudwatch_metric_alarm", {}).values()
    ]


def deployed_models(app: App, env: str) -> set[str]:
    """``MODEL_NAME`` of every model server container the ai-workloads stack deploys."""

    def env_vars(node):
        if isinstance(node, dict):
            if node.get("name") == "MODEL_NAME" and isinstance(node.get("value"), str):
                yield node["value"]
            for child in node.values():
                yield from env_vars(child)
        elif isinstance(node, list):
            for child in node:
                yield from env_vars(child)

    deployments = app.stacks.get(f"ai-workloads-{env}", {}).get("resource", {}).get("kubernetes_deployment_v1", {})
    return set(env_vars(list(deployments.values())))


def dangling(app: App, env: str, stack: str, uses: list[Use], models: set[str], account_id: str) -> list[str]:
    problems = []
    for use in uses:
        if not use.dimensions:
            problems.append(f"{use.where}: {use.namespace}/{use.metric} has no dimension: it names nothing")
        for dimension, value in use.dimensions.items():
            if dimension == "AutoScalingGroupName":
                problem = app.check_node_group_asg(env, stack, value)
            elif dimension in DECLARING_RESOURCE:
                problem = app.check_declared(env, stack, value, *DECLARING_RESOURCE[dimension])
            elif dimension == "ModelName":
                deployed = deployed_models(app, env)
                if value not in models:
                    problem = f"model {value!r} is not in models: of config/{env}.yaml"
                elif value not in deployed:
                    problem = f"model {value!r} has no model server (MODEL_NAME) in ai-workloads-{env}: {sorted(deployed)}"
                else:
                    problem = None
            elif dimension == "ClientId":
                problem = None if value == account_id else f"ClientId {value!r} is not account {account_id}"
            else:
                problem = f"dimension {dimension!r} has no rule in this test: add one"
            if problem:
                problems.append(f"{use.where}: {use.namespace}/{use.metric} {dimension}: {problem}")
    return problems


# --- the app -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(synth_outdir) -> App:
    return App(synth_outdir)


def monitoring(app: App, env: str) -> dict:
    stack = app.stacks[f"monitoring-{env}"]
    if not stack.get("resource", {}).get("aws_cloudwatch_dashboard"):
        pytest.fail(f"monitoring-{env} declares no dashboard (upstream wiring pending: see stacks/monitoring.py)")
    return stack


def env_config(env: str):
    return config_mod.load().environment(env).config


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_dashboard_metrics_name_declared_things(app, env):
    stack = monitoring(app, env)
    cfg = env_config(env)
    (dashboard,) = stack["resource"]["aws_cloudwatch_dashboard"].values()
    uses = dashboard_uses(json.loads(dashboard["dashboard_body"]))
    assert {u.namespace for u in uses} >= {"AWS/EC2", "ContainerInsights", "SophiaAI/ML", "AWS/ES", "AWS/RDS"}
    assert dangling(app, env, f"monitoring-{env}", uses, {m.name for m in cfg.models}, cfg.aws.account_id) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_dashboard_plots_every_configured_model(app, env):
    stack = monitoring(app, env)
    (dashboard,) = stack["resource"]["aws_cloudwatch_dashboard"].values()
    uses = dashboard_uses(json.loads(dashboard["dashboard_body"]))
    for metric in ("InferenceLatency", "InferenceThroughput"):
        plotted = [u.dimensions["ModelName"] for u in uses if u.metric == metric]
        assert sorted(plotted) == sorted(m.name for m in env_config(env).models), metric


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alarm_dimensions_name_declared_things(app, env):
    stack = monitoring(app, env)
    cfg = env_config(env)
    uses = alarm_uses(stack)
    assert len(uses) >= 6
    assert dangling(app, env, f"monitoring-{env}", uses, {m.name for m in cfg.models}, cfg.aws.account_id) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_alarm_notifies_the_shared_topic_on_alarm_and_ok(app, env):
    stack = monitoring(app, env)
    for alarm in stack["resource"]["aws_cloudwatch_metric_alarm"].values():
        assert alarm["treat_missing_data"] in {"breaching", "notBreaching", "ignore", "missing"}
        assert alarm["datapoints_to_alarm"] <= alarm["evaluation_periods"]
        for actions in ("alarm_actions", "ok_actions"):
            assert len(alarm[actions]) == 1, (alarm["alarm_name"], actions)
            resolved = app.resolve(f"monitoring-{env}", alarm[actions][0])
            assert resolved.problem is None, resolved.problem
            assert resolved.chain and resolved.chain[-1].type == "aws_sns_topic", (alarm["alarm_name"], resolved)
            assert resolved.chain[-1].stack == f"shared-{env}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_dashboard_alarm_widget_lists_this_stacks_alarms(app, env):
    stack = monitoring(app, env)
    (dashboard,) = stack["resource"]["aws_cloudwatch_dashboard"].values()
    widgets = [w for w in json.loads(dashboard["dashboard_body"])["widgets"] if w["type"] == "alarm"]
    arns = [arn for w in widgets for arn in w["properties"]["alarms"]]
    declared = {f"${{aws_cloudwatch_metric_alarm.{name}.arn}}" for name in stack["resource"]["aws_cloudwatch_metric_alarm"]}
    assert set(arns) == declared


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_container_insights_metrics_have_a_publisher(app, env):
    stack = monitoring(app, env)
    (dashboard,) = stack["resource"]["aws_cloudwatch_dashboard"].values()
    uses = dashboard_uses(json.loads(dashboard["dashboard_body"])) + alarm_uses(stack)
    assert any(u.namespace == "ContainerInsights" for u in uses)
    addons = [
        block.get("addon_name")
        for body in app.env_stacks(env).values()
        for block in body.get("resource", {}).get("aws_eks_addon", {}).values()
    ]
    assert "amazon-cloudwatch-observability" in addons, addons


# --- the resolver itself: it must be able to say no ----------------------------------------


@pytest.fixture(scope="module")
def fake_app(tmp_path_factory) -> App:
    """Two stacks: ``up-test`` declares a cluster, node group, domain and database;
    ``monitoring-test`` reads some of them across stacks and names one that nobody declares."""
    from cdktf import App as CdktfApp
    from cdktf import TerraformStack

    from constructs_lib.providers import aws

    outdir = tmp_path_factory.mktemp("fake") / "cdktf.out"
    cdktf_app = CdktfApp(outdir=str(outdir))
    up = TerraformStack(cdktf_app, "up-test")
    aws.provider.AwsProvider(up, "aws", region="us-west-2")
    cluster = aws.eks_cluster.EksCluster(
        up, "cluster", name="c-test", role_arn="arn:aws:iam::111111111111:role/r", vpc_config={"subnet_ids": ["s"]}
    )
    group = aws.eks_node_group.EksNodeGroup(
        up,
        "group",
        cluster_name=cluster.name,
        node_group_name="g-test",
        node_role_arn="arn:aws:iam::111111111111:role/n",
        subnet_ids=["s"],
        scaling_config={"min_size": 1, "max_size": 1, "desired_size": 1},
    )
    database = aws.db_instance.DbInstance(up, "db", identifier="db-test", instance_class="db.t4g.micro", engine="postgres")
    mon = TerraformStack(cdktf_app, "monitoring-test")
    aws.provider.AwsProvider(mon, "aws", region="us-west-2")
    lookup = aws.data_aws_eks_node_group.DataAwsEksNodeGroup(
        mon, "lookup", cluster_name=cluster.name, node_group_name=group.node_group_name
    )
    stray = aws.data_aws_eks_node_group.DataAwsEksNodeGroup(mon, "stray", cluster_name=cluster.name, node_group_name="nope")
    aws.ssm_parameter.SsmParameter(
        mon,
        "refs",
        name="refs",
        type="String",
        value="x",
        tags={
            "asg": lookup.resources.get(0).autoscaling_groups.get(0).name,
            "stray_asg": stray.resources.get(0).autoscaling_groups.get(0).name,
            "db": database.identifier,
            "cluster": cluster.name,
        },
    )
    cdktf_app.synth()
    return App(outdir)


def fake_ref(fake_app: App, key: str) -> str:
    return next(iter(fake_app.stacks["monitoring-test"]["resource"]["aws_ssm_parameter"].values()))["tags"][key]


def test_resolver_follows_cross_stack_references(fake_app):
    assert fake_app.check_declared("test", "monitoring-test", fake_ref(fake_app, "db"), "aws_db_instance", "identifier") is None
    assert fake_app.check_declared("test", "monitoring-test", fake_ref(fake_app, "cluster"), "aws_eks_cluster", "name") is None
    assert fake_app.check_node_group_asg("test", "monitoring-test", fake_ref(fake_app, "asg")) is None
    assert fake_app.resolve("monitoring-test", fake_ref(fake_app, "db")).value == "db-test"


def test_resolver_reports_dangling_names(fake_app):
    uses = [
        Use("db", "AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": "db-other"}),
        Use("cluster", "ContainerInsights", "node_cpu_utilization", {"ClusterName": fake_ref(fake_app, "db")}),
        Use("asg", "AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": "sophia-ml-asg"}),
        Use("stray", "AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": fake_ref(fake_app, "stray_asg")}),
        Use("model", "SophiaAI/ML", "InferenceLatency", {"ModelName": "gpt-j"}),
        Use("undeployed", "SophiaAI/ML", "InferenceLatency", {"ModelName": "bert-base"}),
        Use("os", "AWS/ES", "FreeStorageSpace", {"DomainName": "d", "ClientId": "222222222222"}),
        Use("ref", "AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": "${aws_db_instance.missing.identifier}"}),
    ]
    problems = dangling(fake_app, "test", "monitoring-test", uses, {"bert-base"}, "111111111111")
    for where in ("db:", "cluster:", "asg:", "stray:", "model:", "undeployed:", "os:", "ref:"):
        assert any(p.startswith(where) for p in problems), (where, problems)
    assert any("ClientId" in p for p in problems) and any("DomainName" in p for p in problems)

"""SavedQueries: the Logs Insights query definitions of an environment, what they read, and
that each is a well-formed Logs Insights pipeline; and that every environment has them."""

from __future__ import annotations

import re

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting

import sophia_config as config
from constructs_lib.errors import ValidationError
from constructs_lib.monitoring import saved_queries as sq
from constructs_lib.monitoring.saved_queries import SavedQueries, SavedQueriesProps, container_insights_log_groups
from tests.conftest import ROOT
from tests.constructs.support import synth

INSIGHTS = container_insights_log_groups("sophia-compute-eks-dev")
PROPS = SavedQueriesProps(
    folder="sophia-dev",
    application_log_group_names=("sophia-app-logs-dev", "sophia-inference-logs-dev"),
    container_insights_log_group_names=INSIGHTS,
    control_plane_log_group_name="/aws/eks/sophia-compute-eks-dev/cluster",
)
TRAIL = "aws-cloudtrail-logs-111111111111"
# Logs Insights commands (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html).
COMMANDS = {"fields", "filter", "stats", "sort", "limit", "parse", "display", "dedup", "unmask", "pattern", "diff"}


def definitions(out: dict) -> dict[str, dict]:
    return {q["name"]: q for q in out["resource"]["aws_cloudwatch_query_definition"].values()}


def test_queries_read_the_groups_that_hold_the_answer():
    queries = definitions(synth(lambda stack: SavedQueries(stack, "queries", PROPS)))
    application = ["sophia-app-logs-dev", "sophia-inference-logs-dev", INSIGHTS["application"]]
    assert {name: q["log_group_names"] for name, q in queries.items()} == {
        "sophia-dev/errors-by-model": application,
        "sophia-dev/latency-p95-by-model": application,
        "sophia-dev/oom-killed-pods": [INSIGHTS["performance"]],
        "sophia-dev/evicted-pods-node-pressure": [INSIGHTS["dataplane"]],
        "sophia-dev/evicted-pods-by-api": ["/aws/eks/sophia-compute-eks-dev/cluster"],
    }


def test_cloudtrail_queries_only_with_the_trails_log_group():
    with_trail = SavedQueriesProps(**{**PROPS.__dict__, "cloudtrail_log_group_name": TRAIL})
    queries = definitions(synth(lambda stack: SavedQueries(stack, "queries", with_trail)))
    assert queries["sophia-dev/throttled-api-calls"]["log_group_names"] == [TRAIL]
    assert queries["sophia-dev/access-denied"]["log_group_names"] == [TRAIL]
    assert "ThrottlingException" in queries["sophia-dev/throttled-api-calls"]["query_string"]


@pytest.mark.parametrize(
    "query",
    [
        sq.ERRORS_BY_MODEL,
        sq.LATENCY_P95_BY_MODEL,
        sq.OOM_KILLED_PODS,
        sq.EVICTED_PODS_NODE_PRESSURE,
        sq.EVICTED_PODS_BY_API,
        sq.THROTTLED_API_CALLS,
        sq.ACCESS_DENIED,
    ],
)
def test_each_query_is_a_logs_insights_pipeline(query):
    # A stage starts after a pipe at the start of a line; a continuation line is indented.
    stages = [stage.strip() for stage in re.split(r"\n\| ", query)]
    assert {stage.split()[0] for stage in stages} <= COMMANDS, stages
    assert stages[0].startswith("fields ")
    for opening, closing in ("()", "[]"):
        assert query.count(opening) == query.count(closing)
    assert query.count('"') % 2 == 0
    # What the pipeline sorts by exists before the sort (a field or a name given with "as").
    if match := re.search(r"\| sort (\S+)", query):
        before = query[: match.start()]
        assert match.group(1).startswith("@") or re.search(rf"\b{re.escape(match.group(1))}\b", before)


def test_model_queries_read_both_log_shapes():
    # Top-level JSON (application groups) and Fluent Bit's log_processed (Container Insights).
    for query in (sq.ERRORS_BY_MODEL, sq.LATENCY_P95_BY_MODEL):
        assert "coalesce(log_processed.model, model, kubernetes.namespace_name)" in query
    assert "pct(latency, 95)" in sq.LATENCY_P95_BY_MODEL


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"folder": "sophia dev"}, "folder must be 1-64 letters"),
        ({"application_log_group_names": ()}, "application_log_group_names must name at least one group"),
        ({"container_insights_log_group_names": {"application": "a"}}, "lacks ['dataplane', 'performance']"),
    ],
)
def test_validation(changes, message):
    app = CdktfTesting.app()
    with pytest.raises(ValidationError) as exc:
        SavedQueries(TerraformStack(app, "t"), "queries", SavedQueriesProps(**{**PROPS.__dict__, **changes}))
    assert message in str(exc.value)


@pytest.mark.parametrize("environment", [env.name for env in config.load(ROOT / "config").environments])
def test_every_environment_saves_its_queries(stack_json, environment):
    queries = definitions(stack_json(f"monitoring-{environment}"))
    assert sorted(queries) == sorted(
        f"sophia-{environment}/{name}"
        for name in ("errors-by-model", "latency-p95-by-model", "oom-killed-pods", "evicted-pods-node-pressure", "evicted-pods-by-api")
    )
    oom = queries[f"sophia-{environment}/oom-killed-pods"]
    assert oom["log_group_names"] == [f"/aws/containerinsights/sophia-compute-eks-{environment}/performance"]
    # The application's groups by reference: created before the query that reads them.
    assert all(g.startswith("${aws_cloudwatch_log_group.") for g in queries[f"sophia-{environment}/errors-by-model"]["log_group_names"][:-1])
    outputs = stack_json(f"monitoring-{environment}")["output"]["saved_query_names"]["value"]
    assert sorted(outputs) == sorted(queries)

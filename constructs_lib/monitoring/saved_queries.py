"""``SavedQueries``: CloudWatch Logs Insights query definitions for the questions asked
during an incident, saved per environment next to the log groups they read.

In the console (CloudWatch > Logs Insights > Queries) they appear in a folder named
after the environment (``<folder>/<query>``); from the CLI they run with
``aws logs start-query`` (docs/operations.md). The queries assume:

* the model servers log one JSON object per line with ``level``, ``model`` (the name in
  ``models:``) and, for each request, ``latency_ms``. Written to the application log
  groups they are top-level fields; written to stdout, Container Insights' Fluent Bit
  puts them under ``log_processed`` in ``/aws/containerinsights/<cluster>/application``
  (``coalesce`` reads either), and ``kubernetes.namespace_name`` (``model-<name>``)
  names the model when the line does not;
* Container Insights with enhanced observability (the ``amazon-cloudwatch-observability``
  add-on) publishes ``pod_container_status_terminated_reason_oom_killed`` in its
  ``performance`` events: the container's own log does not say it was killed;
* the kubelet's eviction manager logs to ``dataplane``; evictions through the API
  (drains, the cluster autoscaler's scale-down) are in the control plane's audit log;
* CloudTrail delivers to a log group (``cloudtrail_log_group_name``): without it the two
  CloudTrail queries are not created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.providers import aws

CONTAINER_INSIGHTS_KINDS = ("application", "dataplane", "host", "performance")
_FOLDER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def container_insights_log_groups(cluster_name: str) -> dict[str, str]:
    """The log groups Container Insights writes to, by kind (the names AWS fixes)."""
    return {kind: f"/aws/containerinsights/{cluster_name}/{kind}" for kind in CONTAINER_INSIGHTS_KINDS}


# Model name and fields, whether the line reached CloudWatch through an application log group
# (top-level JSON) or through Container Insights' Fluent Bit (JSON under log_processed).
_MODEL = "coalesce(log_processed.model, model, kubernetes.namespace_name) as model_name"

ERRORS_BY_MODEL = f"""fields @timestamp, @log, {_MODEL},
  coalesce(log_processed.level, level) as severity,
  coalesce(log_processed.message, message, log, @message) as text
| filter severity in ["ERROR", "CRITICAL", "FATAL", "error", "critical", "fatal"]
| stats count(*) as errors, latest(text) as last_error by model_name, bin(5m)
| sort errors desc"""

LATENCY_P95_BY_MODEL = f"""fields {_MODEL}, coalesce(log_processed.latency_ms, latency_ms) as latency
| filter ispresent(latency)
| stats pct(latency, 95) as p95_ms, avg(latency) as avg_ms, count(*) as requests by model_name, bin(5m)
| sort p95_ms desc"""

OOM_KILLED_PODS = """fields @timestamp, Namespace, PodName, pod_container_status_terminated_reason_oom_killed
| filter Type = "Pod" and pod_container_status_terminated_reason_oom_killed > 0
| stats max(pod_container_status_terminated_reason_oom_killed) as oom_killed_containers,
  latest(@timestamp) as last_seen by Namespace, PodName
| sort last_seen desc"""

EVICTED_PODS_NODE_PRESSURE = """fields @timestamp, @logStream, @message
| filter @message like /(?i)eviction manager|evicted pod|evicting pod/
| sort @timestamp desc
| limit 200"""

EVICTED_PODS_BY_API = """fields @timestamp, objectRef.namespace as namespace, objectRef.name as pod,
  user.username as requested_by, responseStatus.code as status
| filter @logStream like /^kube-apiserver-audit/
| filter objectRef.resource = "pods" and objectRef.subresource = "eviction" and verb = "create"
| sort @timestamp desc
| limit 200"""

THROTTLED_API_CALLS = """fields @timestamp, eventSource, eventName, errorCode, userIdentity.arn as caller
| filter errorCode in ["ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException",
  "RateExceeded", "SlowDown", "ProvisionedThroughputExceededException"]
| stats count(*) as throttled by eventSource, eventName, caller
| sort throttled desc"""

ACCESS_DENIED = """fields @timestamp, eventSource, eventName, errorCode, errorMessage, userIdentity.arn as caller
| filter errorCode like /AccessDenied|UnauthorizedOperation|Unauthorized/
| stats count(*) as denied, latest(errorMessage) as last_message by caller, eventSource, eventName
| sort denied desc"""


@dataclass(frozen=True)
class SavedQueriesProps:
    folder: str
    """Console folder of the queries (the environment, e.g. ``sophia-dev``)."""
    application_log_group_names: tuple[str, ...]
    """The application's log groups (``LogGroups.log_group_names``)."""
    container_insights_log_group_names: dict[str, str]
    """Container Insights' groups by kind (:func:`container_insights_log_groups`)."""
    control_plane_log_group_name: str
    """The EKS control plane's group (``/aws/eks/<cluster>/cluster``: audit events)."""
    cloudtrail_log_group_name: str | None = None
    """The group CloudTrail delivers to. Default: none (no CloudTrail queries)."""


class SavedQueries(Construct):
    """Outputs: ``queries`` (short name -> ``aws_cloudwatch_query_definition``), ``query_names``
    (short name -> the name in the console)."""

    def __init__(self, scope: Construct, id_: str, props: SavedQueriesProps):
        super().__init__(scope, id_)
        self._validate(id_, props)
        insights = props.container_insights_log_group_names
        application = (*props.application_log_group_names, insights["application"])
        wanted: list[tuple[str, str, tuple[str, ...]]] = [
            ("errors-by-model", ERRORS_BY_MODEL, application),
            ("latency-p95-by-model", LATENCY_P95_BY_MODEL, application),
            ("oom-killed-pods", OOM_KILLED_PODS, (insights["performance"],)),
            ("evicted-pods-node-pressure", EVICTED_PODS_NODE_PRESSURE, (insights["dataplane"],)),
            ("evicted-pods-by-api", EVICTED_PODS_BY_API, (props.control_plane_log_group_name,)),
        ]
        if props.cloudtrail_log_group_name:
            wanted += [
                ("throttled-api-calls", THROTTLED_API_CALLS, (props.cloudtrail_log_group_name,)),
                ("access-denied", ACCESS_DENIED, (props.cloudtrail_log_group_name,)),
            ]
        self.queries = {
            short: aws.cloudwatch_query_definition.CloudwatchQueryDefinition(
                self, short, name=f"{props.folder}/{short}", query_string=query, log_group_names=list(groups)
            )
            for short, query, groups in wanted
        }
        self.query_names: dict[str, str] = {short: f"{props.folder}/{short}" for short, _, _ in wanted}

    @staticmethod
    def _validate(id_: str, props: SavedQueriesProps) -> None:
        where = f"SavedQueries {id_}"
        if not _FOLDER.fullmatch(props.folder):
            raise ValidationError(f"{where}: folder must be 1-64 letters, digits, '.', '_' or '-', got {props.folder!r}")
        if not props.application_log_group_names:
            raise ValidationError(f"{where}: application_log_group_names must name at least one group, got ()")
        missing = sorted(set(("application", "dataplane", "performance")) - set(props.container_insights_log_group_names))
        if missing:
            raise ValidationError(f"{where}: container_insights_log_group_names lacks {missing}")

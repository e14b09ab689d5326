"""What ``VectorDatabase`` alarms on: OpenSearch Service's recommended alarms, as data.

https://docs.aws.amazon.com/opensearch-service/latest/developerguide/cloudwatch-alarms.html
Each spec names an ``AWS/ES`` metric; the construct turns it into a :class:`MetricAlarm`
through ``VectorDatabase.metric`` (which adds the domain's dimensions) and its topic.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.monitoring.alarms import Comparison, TreatMissingData


@dataclass(frozen=True)
class AlarmSpec:
    id: str
    metric: str
    stat: str
    comparison: Comparison
    threshold: float
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: TreatMissingData
    description: str


def health_alarm_specs(
    *, volume_size_gb: int, instance_count: int, free_storage_percent: int, jvm_pressure_percent: int
) -> list[AlarmSpec]:
    """The alarms of a domain of ``instance_count`` data nodes with ``volume_size_gb`` each."""
    free_storage_mb = volume_size_gb * 1024 * free_storage_percent // 100
    specs = [
        # A domain always reports its status: silence means it is unreachable.
        AlarmSpec("cluster-red", "ClusterStatus.red", "Maximum", Comparison.GREATER_THAN_OR_EQUAL, 1, 60, 1, 1,
                  TreatMissingData.BREACHING,
                  "At least one primary shard is unassigned: searches miss data and writes to it fail."),
    ]
    # A single-node domain cannot place replica shards and is yellow by design.
    if instance_count > 1:
        specs.append(
            AlarmSpec("cluster-yellow", "ClusterStatus.yellow", "Maximum", Comparison.GREATER_THAN_OR_EQUAL, 1, 60, 5, 5,
                      TreatMissingData.NOT_BREACHING,
                      "Replica shards unassigned for 5 minutes: one more node loss can lose data.")
        )
    specs += [
        AlarmSpec("free-storage", "FreeStorageSpace", "Minimum", Comparison.LESS_THAN_OR_EQUAL, free_storage_mb, 60, 1, 1,
                  TreatMissingData.NOT_BREACHING,
                  f"A node has <= {free_storage_percent}% ({free_storage_mb} MB) free storage; "
                  "writes are blocked at 20 GB or 5% free."),
        AlarmSpec("jvm-pressure", "JVMMemoryPressure", "Maximum", Comparison.GREATER_THAN_OR_EQUAL,
                  jvm_pressure_percent, 60, 3, 3, TreatMissingData.NOT_BREACHING,
                  f"JVM heap >= {jvm_pressure_percent}% for 3 minutes: circuit breakers reject requests."),
        AlarmSpec("writes-blocked", "ClusterIndexWritesBlocked", "Maximum", Comparison.GREATER_THAN_OR_EQUAL, 1, 300, 1, 1,
                  TreatMissingData.NOT_BREACHING,
                  "The cluster is blocking writes (storage or memory pressure): indexing fails."),
    ]
    return specs

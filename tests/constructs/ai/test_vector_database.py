"""VectorDatabase: private, encrypted, IAM-only OpenSearch with alarms that can actually fire."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting  # not "Testing": pytest would try to collect it

from constructs_lib.ai.vector_database import LOG_TYPES, VectorDatabase
from constructs_lib.ai.vector_database_props import VectorDatabaseProps
from constructs_lib.errors import ValidationError
from constructs_lib.monitoring import metrics
from constructs_lib.naming import Naming, NamingError, ResourceKind

TOPIC = "arn:aws:sns:us-west-2:333333333333:sophia-shared-alarms-production"
APP_SG = "sg-0app"
DEV = VectorDatabaseProps(
    domain_name="sophia-ai-vectors-dev",
    vpc_id="vpc-1",
    subnet_ids=("subnet-a", "subnet-b", "subnet-c"),
    allowed_security_group_ids=(APP_SG,),
    kms_key_arn="arn:aws:kms:us-west-2:111111111111:key/data",
    log_kms_key_arn="arn:aws:kms:us-west-2:111111111111:key/logs",
    log_retention_days=30,
    alarm_topic_arn=TOPIC,
    instance_type="t3.medium.search",
)
PRODUCTION = replace(
    DEV,
    domain_name=Naming("sophia", "production").name("ai", "vectors", kind=ResourceKind.OPENSEARCH_DOMAIN),
    instance_type="r6g.large.search",
    instance_count=3,
    volume_size_gb=100,
    availability_zones=3,
    dedicated_master_count=3,
    dedicated_master_type="m6g.large.search",
)


def synth(props: VectorDatabaseProps) -> dict:
    stack = TerraformStack(CdktfTesting.app(), "test")
    VectorDatabase(stack, "vectors", props)
    return json.loads(CdktfTesting.synth(stack))


def only(resources: dict) -> dict:
    assert len(resources) == 1, resources.keys()
    return next(iter(resources.values()))


@pytest.fixture(scope="module")
def production() -> dict:
    return synth(PRODUCTION)


@pytest.fixture(scope="module")
def dev() -> dict:
    return synth(DEV)


def domain(out: dict) -> dict:
    return only(out["resource"]["aws_opensearch_domain"])


def alarms(out: dict) -> list[dict]:
    return list(out["resource"]["aws_cloudwatch_metric_alarm"].values())


def test_domain_name_fits_the_28_character_limit(production):
    assert len(domain(production)["domain_name"]) <= 28
    assert domain(production)["domain_name"] == "sophia-ai-vectors-production"


def test_too_long_domain_name_is_rejected_with_name_and_length():
    with pytest.raises(NamingError, match=r"OPENSEARCH_DOMAIN name 'sophia-ai-vector-database-production' is 36 characters, over the AWS limit of 28"):
        Naming("sophia", "production").name("ai", "vector-database", kind=ResourceKind.OPENSEARCH_DOMAIN)
    with pytest.raises(NamingError, match="over the AWS limit of 28"):
        VectorDatabase(TerraformStack(CdktfTesting.app(), "t"), "v", replace(DEV, domain_name="sophia-ai-vector-database-production"))


def test_encryption_tls_and_fine_grained_access_control(production):
    d = domain(production)
    assert d["engine_version"] == "OpenSearch_2.19"
    assert d["encrypt_at_rest"] == {"enabled": True, "kms_key_id": DEV.kms_key_arn}
    assert d["node_to_node_encryption"] == {"enabled": True}
    assert d["domain_endpoint_options"] == {"enforce_https": True, "tls_security_policy": "Policy-Min-TLS-1-2-PFS-2023-10"}
    security = d["advanced_security_options"]
    assert security["enabled"] is True
    assert security["internal_user_database_enabled"] is False
    assert security["anonymous_auth_enabled"] is False
    assert set(security["master_user_options"]) == {"master_user_arn"}  # no name/password in state
    assert security["master_user_options"]["master_user_arn"].startswith("${aws_iam_role.")
    assert "timeouts" not in d


def test_production_sizing_zone_awareness_and_dedicated_masters(production):
    d = domain(production)
    cluster = d["cluster_config"]
    assert cluster["instance_count"] == 3
    assert cluster["zone_awareness_enabled"] is True
    assert cluster["zone_awareness_config"] == {"availability_zone_count": 3}
    assert (cluster["dedicated_master_enabled"], cluster["dedicated_master_count"]) == (True, 3)
    assert d["vpc_options"]["subnet_ids"] == ["subnet-a", "subnet-b", "subnet-c"]
    assert d["ebs_options"] == {"ebs_enabled": True, "volume_type": "gp3", "volume_size": 100, "iops": 3000, "throughput": 125}
    assert d["snapshot_options"] == {"automated_snapshot_start_hour": 2}


def test_dev_is_single_az_in_one_subnet_without_masters(dev):
    d = domain(dev)
    assert d["cluster_config"]["zone_awareness_enabled"] is False
    assert "zone_awareness_config" not in d["cluster_config"]
    assert d["cluster_config"]["dedicated_master_enabled"] is False
    assert d["vpc_options"]["subnet_ids"] == ["subnet-a"]


def test_security_group_admits_https_from_the_application_tier_only(production):
    rules = list(production["resource"]["aws_vpc_security_group_ingress_rule"].values())
    assert [(r["referenced_security_group_id"], r["from_port"], r["to_port"], r["ip_protocol"]) for r in rules] == [
        (APP_SG, 443, 443, "tcp")
    ]
    assert not any("cidr_ipv4" in r or "cidr_ipv6" in r for r in rules)
    assert "aws_vpc_security_group_egress_rule" not in production["resource"]
    sg = only(production["resource"]["aws_security_group"])
    assert "ingress" not in sg and "egress" not in sg


def test_all_log_types_published_to_retained_encrypted_groups(production):
    d = domain(production)
    assert sorted(o["log_type"] for o in d["log_publishing_options"]) == sorted(LOG_TYPES)
    groups = production["resource"]["aws_cloudwatch_log_group"].values()
    assert len(groups) == 4
    assert all(g["retention_in_days"] == 30 and g["kms_key_id"] == DEV.log_kms_key_arn for g in groups)
    assert any(dep.startswith("aws_cloudwatch_log_resource_policy.") for dep in d["depends_on"])


def test_log_resource_policy_is_limited_to_this_account_and_domain(production):
    policy = only(production["resource"]["aws_cloudwatch_log_resource_policy"])
    ref = policy["policy_document"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
    (statement,) = production["data"]["aws_iam_policy_document"][ref]["statement"]
    assert statement["principals"] == [{"type": "Service", "identifiers": ["es.amazonaws.com"]}]
    conditions = {c["variable"]: c for c in statement["condition"]}
    identity = next(iter(production["data"]["aws_caller_identity"]))
    assert conditions["aws:SourceAccount"]["values"] == [f"${{data.aws_caller_identity.{identity}.account_id}}"]
    assert conditions["aws:SourceArn"]["values"][0].endswith(":domain/sophia-ai-vectors-production")
    assert all(r.endswith(":*") for r in statement["resources"])


def test_alarm_dimensions_use_the_caller_identity_account_not_a_placeholder(production):
    identity = next(iter(production["data"]["aws_caller_identity"]))
    for alarm in alarms(production):
        assert alarm["namespace"] == "AWS/ES"
        assert alarm["dimensions"]["ClientId"] == f"${{data.aws_caller_identity.{identity}.account_id}}"
        assert alarm["dimensions"]["DomainName"].startswith("${aws_opensearch_domain.")


def test_metric_has_the_dimensions_the_dashboard_plots():
    # The alarms (vector_db.metric) and the monitoring dashboard (metrics.opensearch_*) watch
    # the same lines: same namespace, same dimension names, in the same order.
    stack = TerraformStack(CdktfTesting.app(), "test")
    vdb = VectorDatabase(stack, "vectors", DEV)
    own = vdb.metric("FreeStorageSpace", stat="Minimum", period=300)
    plotted = metrics.opensearch_free_storage("sophia-ai-vectors-dev", "111111111111")
    assert (own.namespace, own.metric_name, own.stat, own.period) == ("AWS/ES", "FreeStorageSpace", "Minimum", 300)
    assert [name for name, _ in own.dimensions] == [name for name, _ in plotted.dimensions] == ["DomainName", "ClientId"]


def test_every_alarm_notifies_on_alarm_and_on_recovery(production, dev):
    for out in (production, dev):
        for alarm in alarms(out):
            assert alarm["alarm_actions"] == [TOPIC]
            assert alarm["ok_actions"] == [TOPIC]
            assert alarm["treat_missing_data"] in ("breaching", "notBreaching", "ignore", "missing")
            assert 1 <= alarm["datapoints_to_alarm"] <= alarm["evaluation_periods"]


def test_health_alarms_present(production, dev):
    by_name = {a["metric_name"]: a for a in alarms(production)}
    assert set(by_name) == {"ClusterStatus.red", "ClusterStatus.yellow", "FreeStorageSpace", "JVMMemoryPressure", "ClusterIndexWritesBlocked"}
    # 25% of a 100 GiB volume, in MB (the metric's unit).
    assert by_name["FreeStorageSpace"]["threshold"] == 25600
    assert by_name["FreeStorageSpace"]["comparison_operator"] == "LessThanOrEqualToThreshold"
    assert by_name["ClusterStatus.red"]["treat_missing_data"] == "breaching"
    # A single data node is yellow by design: no yellow alarm there.
    assert "ClusterStatus.yellow" not in {a["metric_name"] for a in alarms(dev)}


def test_master_role_is_assumable_only_from_this_account(production):
    role = only(production["resource"]["aws_iam_role"])
    ref = role["assume_role_policy"].removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
    (statement,) = production["data"]["aws_iam_policy_document"][ref]["statement"]
    (principal,) = statement["principals"]
    assert principal["type"] == "AWS"
    assert principal["identifiers"][0].endswith(":root")
    assert ":iam::${data.aws_caller_identity." in principal["identifiers"][0]


def test_given_master_role_is_used_and_none_created():
    out = synth(replace(DEV, master_role_arn="arn:aws:iam::111111111111:role/search-admin"))
    assert "aws_iam_role" not in out["resource"]
    assert domain(out)["advanced_security_options"]["master_user_options"]["master_user_arn"].endswith("role/search-admin")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"instance_count": 4}, r"instance_count must be a positive multiple of availability_zones \(3\), got 4"),
        ({"subnet_ids": ("subnet-a", "subnet-b")}, r"subnet_ids must have one subnet per AZ \(3\), got 2"),
        ({"dedicated_master_count": 2}, "dedicated_master_count must be 0, 3 or 5, got 2"),
        ({"dedicated_master_type": None}, "dedicated_master_type must be a '.search' type"),
        ({"allowed_security_group_ids": ()}, "allowed_security_group_ids must name the application tier"),
        ({"tls_security_policy": "Policy-Min-TLS-1-0-2019-07"}, "tls_security_policy must be one of"),
        ({"engine_version": "Elasticsearch_7.10"}, "engine_version must look like 'OpenSearch_2.19', got 'Elasticsearch_7.10'"),
        ({"log_retention_days": 10}, "log_retention_days must be one of the CloudWatch Logs retentions"),
        ({"alarm_topic_arn": ""}, "alarm_topic_arn is required"),
    ],
)
def test_invalid_props_are_rejected_with_the_value(change, message):
    with pytest.raises(ValidationError, match=message):
        VectorDatabase(TerraformStack(CdktfTesting.app(), "t"), "v", replace(PRODUCTION, **change))

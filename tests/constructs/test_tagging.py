"""Default tags on the provider, Component/ResourceType from the tagging pass, nothing else."""

from __future__ import annotations

import json

from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting
from constructs import Construct

from constructs_lib import tagging
from constructs_lib.providers import aws


class _Widget(Construct):
    def __init__(self, scope, id_):
        super().__init__(scope, id_)
        tagging.set_component(self, "widgets")
        self.bucket = aws.s3_bucket.S3Bucket(self, "bucket", bucket="sophia-widgets-bucket-dev", tags={"Name": "w"})
        aws.s3_bucket_policy.S3BucketPolicy(self, "policy", bucket=self.bucket.id, policy="{}")


def _synth() -> dict:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "tagging")
    aws.provider.AwsProvider(
        stack,
        "aws",
        region="us-west-2",
        default_tags=[
            aws.provider.AwsProviderDefaultTags(
                tags=tagging.default_tags(project="sophia", environment="dev", owner="team", cost_center="42")
            )
        ],
    )
    _Widget(stack, "widget")
    aws.sqs_queue.SqsQueue(stack, "queue", name="q")
    aws.data_aws_vpc.DataAwsVpc(stack, "existing", tags={"Name": "x"})
    tagging.apply(stack, "fallback")
    return json.loads(CdktfTesting.synth(stack))


def test_project_tags_come_from_provider_default_tags():
    synthesized = _synth()
    assert synthesized["provider"]["aws"][0]["default_tags"] == [
        {"tags": {"CostCenter": "42", "Environment": "dev", "ManagedBy": "cdktf", "Owner": "team", "Project": "sophia"}}
    ]


def test_component_and_resource_type_are_added_to_every_taggable_resource():
    resources = _synth()["resource"]
    (bucket,) = resources["aws_s3_bucket"].values()
    assert bucket["tags"] == {"Component": "widgets", "Name": "w", "ResourceType": "s3_bucket"}
    (queue,) = resources["aws_sqs_queue"].values()
    assert queue["tags"] == {"Component": "fallback", "ResourceType": "sqs_queue"}


def test_untaggable_resources_and_data_sources_are_left_alone():
    synthesized = _synth()
    (policy,) = synthesized["resource"]["aws_s3_bucket_policy"].values()
    assert "tags" not in policy
    (vpc,) = synthesized["data"]["aws_vpc"].values()
    assert vpc["tags"] == {"Name": "x"}


def test_no_creation_timestamp_tag():
    text = json.dumps(_synth())
    assert "CreatedAt" not in text


def test_a_component_declared_in_one_app_does_not_tag_another():
    # Issue 12, point 7: components were a module-level dict keyed by construct path.
    assert _synth()["resource"]["aws_s3_bucket"]  # the first app declares "widgets" at tagging/widget
    app = CdktfTesting.app()
    stack = TerraformStack(app, "tagging")
    aws.provider.AwsProvider(stack, "aws", region="us-west-2")
    widget = Construct(stack, "widget")  # same path, no component declared
    aws.s3_bucket.S3Bucket(widget, "bucket", bucket="sophia-other-bucket-dev")
    tagging.apply(stack, "fallback")
    (bucket,) = json.loads(CdktfTesting.synth(stack))["resource"]["aws_s3_bucket"].values()
    assert bucket["tags"] == {"Component": "fallback", "ResourceType": "s3_bucket"}


def test_the_guards_know_which_synthesized_types_are_taggable(synth_outdir):
    # The guards judge JSON, where an untagged taggable resource simply has no tags:
    # is_taggable_type must agree with what tagging tagged, type by type, over the app.
    judged: dict[str, bool] = {}
    for path in sorted((synth_outdir / "stacks").glob("*/cdk.tf.json")):
        for rtype, resources in json.loads(path.read_text()).get("resource", {}).items():
            for config in resources.values():
                tagged = "ResourceType" in (config.get("tags") or {})
                assert judged.setdefault(rtype, tagged) == tagged, rtype
    assert {rtype for rtype, tagged in judged.items() if tagged} == {r for r in judged if tagging.is_taggable_type(r)}
    assert any(judged.values()) and not all(judged.values())
    assert not tagging.is_taggable_type("random_id") and not tagging.is_taggable_type("aws_no_such_thing")

"""Default tags on the provider, Component/ResourceType from the Aspect, nothing else."""

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

"""Each guard rule rejects a stack that breaks it, names the construct path, and passes a compliant one."""

from __future__ import annotations

import pytest
from cdktf import TerraformStack, Testing

from constructs_lib import guards, tagging
from constructs_lib.errors import ValidationError
from constructs_lib.providers import aws

DEFAULT_TAGS = {"Project": "sophia", "Environment": "test"}


def make_stack(default_tags: dict | None = DEFAULT_TAGS, require_deletion_protection: bool = True) -> TerraformStack:
    stack = TerraformStack(Testing.app(), "guarded")
    aws.provider.AwsProvider(
        stack,
        "aws",
        region="us-west-2",
        default_tags=[aws.provider.AwsProviderDefaultTags(tags=default_tags)] if default_tags else None,
    )
    tagging.apply(stack, "test")
    guards.install(stack, guards.GuardOptions(require_database_deletion_protection=require_deletion_protection))
    return stack


def synth_violations(stack: TerraformStack) -> list[guards.Violation]:
    Testing.synth(stack)
    found = guards.violations(stack)
    with pytest.raises(ValidationError):
        guards.check(stack)
    return found


def rules(found) -> set[tuple[str, str]]:
    return {(v.path, v.rule) for v in found}


def compliant_bucket(stack, id_: str = "bucket", public_access: bool = True):
    bucket = aws.s3_bucket.S3Bucket(stack, id_, bucket=f"sophia-{id_}")
    aws.s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationA(
        stack,
        f"{id_}-sse",
        bucket=bucket.id,
        rule=[
            aws.s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=aws.s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="aws:kms", kms_master_key_id="arn:aws:kms:us-west-2:111111111111:key/x"
                )
            )
        ],
    )
    aws.s3_bucket_public_access_block.S3BucketPublicAccessBlock(
        stack,
        f"{id_}-pab",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=public_access,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    return bucket


def test_compliant_stack_passes():
    stack = make_stack()
    compliant_bucket(stack)
    aws.cloudwatch_log_group.CloudwatchLogGroup(stack, "logs", name="l", kms_key_id="arn:aws:kms:us-west-2:1:key/x")
    Testing.synth(stack)
    assert guards.violations(stack) == []
    guards.check(stack)  # does not raise


def test_untagged_when_provider_has_no_default_tags():
    stack = make_stack(default_tags=None)
    aws.sns_topic.SnsTopic(stack, "topic", name="t", kms_master_key_id="alias/x")
    assert rules(synth_violations(stack)) == {("guarded/aws", "untagged")}


def test_untagged_resource_without_component_tag():
    stack = TerraformStack(Testing.app(), "guarded")
    aws.provider.AwsProvider(stack, "aws", region="us-west-2", default_tags=[aws.provider.AwsProviderDefaultTags(tags=DEFAULT_TAGS)])
    guards.install(stack)  # no tagging.apply: nothing adds Component
    aws.sns_topic.SnsTopic(stack, "topic", name="t", kms_master_key_id="alias/x")
    found = synth_violations(stack)
    assert rules(found) == {("guarded/topic", "untagged")}
    assert "Component" in found[0].message


def test_unencrypted_bucket_log_group_and_database():
    stack = make_stack()
    aws.s3_bucket.S3Bucket(stack, "plain", bucket="sophia-plain")
    aws.cloudwatch_log_group.CloudwatchLogGroup(stack, "logs", name="l")
    aws.db_instance.DbInstance(
        stack, "db", instance_class="db.t3.micro", engine="postgres", allocated_storage=20, deletion_protection=True
    )
    aws.dynamodb_table.DynamodbTable(stack, "table", name="t", hash_key="k", attribute=[aws.dynamodb_table.DynamodbTableAttribute(name="k", type="S")])
    found = rules(synth_violations(stack))
    assert ("guarded/plain", "unencrypted") in found
    assert ("guarded/logs", "unencrypted") in found
    assert ("guarded/db", "unencrypted") in found
    assert ("guarded/table", "unencrypted") in found


def test_public_ingress_outside_https_load_balancer():
    stack = make_stack()
    aws.security_group.SecurityGroup(
        stack,
        "ssh",
        name="ssh",
        ingress=[aws.security_group.SecurityGroupIngress(from_port=22, to_port=22, protocol="tcp", cidr_blocks=["0.0.0.0/0"])],
    )
    aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
        stack, "https-unmarked", security_group_id="sg-1", from_port=443, to_port=443, ip_protocol="tcp", cidr_ipv6="::/0"
    )
    found = synth_violations(stack)
    assert rules(found) == {("guarded/ssh", "public-ingress"), ("guarded/https-unmarked", "public-ingress")}
    assert any("0.0.0.0/0 on 22-22/tcp" in v.message for v in found)


def test_public_ingress_is_judged_on_address_space_not_strings():
    """Two rules 0.0.0.0/1 + 128.0.0.0/1 on 5432 open the database to the internet (issue 12)."""
    stack = make_stack()
    halves = [
        aws.security_group.SecurityGroupIngress(from_port=5432, to_port=5432, protocol="tcp", cidr_blocks=[cidr])
        for cidr in ("0.0.0.0/1", "128.0.0.0/1")
    ]
    aws.security_group.SecurityGroup(stack, "db", name="db", ingress=halves)
    aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
        stack, "wide-v6", security_group_id="sg-1", from_port=5432, to_port=5432, ip_protocol="tcp", cidr_ipv6="2000::/4"
    )
    aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
        stack, "office", security_group_id="sg-1", from_port=5432, to_port=5432, ip_protocol="tcp", cidr_ipv4="203.0.114.0/24"
    )
    aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
        stack, "vpc", security_group_id="sg-1", from_port=5432, to_port=5432, ip_protocol="tcp", cidr_ipv4="10.0.0.0/8"
    )
    found = synth_violations(stack)
    assert rules(found) == {("guarded/db", "public-ingress"), ("guarded/wide-v6", "public-ingress")}
    messages = sorted(v.message for v in found if v.path == "guarded/db")
    assert len(messages) == 2 and "0.0.0.0/1 on 5432-5432/tcp" in messages[0] and "128.0.0.0/1" in messages[1]


def test_a_group_whose_rules_together_cover_too_much_public_space_is_refused():
    """Each rule admits one /24 (within the bound); the group's rules together admit two."""
    stack = make_stack()
    group = aws.security_group.SecurityGroup(stack, "db", name="db")
    for i, cidr in enumerate(("44.0.0.0/24", "44.1.0.0/24")):
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            stack, f"office-{i}", security_group_id=group.id, from_port=5432, to_port=5432, ip_protocol="tcp", cidr_ipv4=cidr
        )
    other = aws.security_group.SecurityGroup(stack, "other", name="other")
    aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
        stack, "one-office", security_group_id=other.id, from_port=5432, to_port=5432, ip_protocol="tcp", cidr_ipv4="44.2.0.0/24"
    )
    found = synth_violations(stack)
    assert rules(found) == {("guarded/office-0", "public-ingress")}
    (violation,) = found
    assert "2 ingress rules of ${aws_security_group.db" in violation.message and "512 public IPv4 addresses" in violation.message


def test_https_into_marked_load_balancer_is_allowed_but_not_other_ports():
    stack = make_stack()
    from constructs import Construct

    alb = Construct(stack, "alb")
    guards.allow_public_https(alb, "internet-facing ALB")
    aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
        alb, "https", security_group_id="sg-1", from_port=443, to_port=443, ip_protocol="tcp", cidr_ipv4="0.0.0.0/0"
    )
    aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
        alb, "http", security_group_id="sg-1", from_port=80, to_port=80, ip_protocol="tcp", cidr_ipv4="0.0.0.0/0"
    )
    assert rules(synth_violations(stack)) == {("guarded/alb/http", "public-ingress")}


def test_imdsv1_launch_template():
    stack = make_stack()
    aws.launch_template.LaunchTemplate(stack, "lt", name="lt")
    aws.launch_template.LaunchTemplate(
        stack,
        "lt-optional",
        name="lt2",
        metadata_options=aws.launch_template.LaunchTemplateMetadataOptions(http_tokens="optional"),
    )
    aws.launch_template.LaunchTemplate(
        stack,
        "lt-ok",
        name="lt3",
        metadata_options=aws.launch_template.LaunchTemplateMetadataOptions(http_tokens="required"),
    )
    assert rules(synth_violations(stack)) == {("guarded/lt", "imdsv1"), ("guarded/lt-optional", "imdsv1")}


def test_public_s3_flag_off_and_missing_block():
    stack = make_stack()
    compliant_bucket(stack, "open", public_access=False)
    bucket = aws.s3_bucket.S3Bucket(stack, "no-pab", bucket="sophia-no-pab")
    aws.s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationA(
        stack,
        "no-pab-sse",
        bucket=bucket.bucket,
        rule=[
            aws.s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=aws.s3_bucket_server_side_encryption_configuration.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="aws:kms"
                )
            )
        ],
    )
    found = synth_violations(stack)
    assert rules(found) == {("guarded/open-pab", "public-s3"), ("guarded/no-pab", "public-s3")}
    assert any("block_public_policy" in v.message for v in found)


def _database(scope, id_: str, protected: bool):
    return aws.db_instance.DbInstance(
        scope,
        id_,
        instance_class="db.t3.micro",
        engine="postgres",
        allocated_storage=20,
        storage_encrypted=True,
        kms_key_id="arn:aws:kms:us-west-2:1:key/x",
        deletion_protection=protected,
    )


def test_database_without_deletion_protection_unless_standby_or_not_required():
    from constructs import Construct

    stack = make_stack(require_deletion_protection=True)
    _database(stack, "active", protected=True)
    _database(stack, "unprotected", protected=False)
    green = Construct(stack, "green")
    guards.mark_standby(green, "inactive blue/green colour")
    _database(green, "instance", protected=False)
    assert rules(synth_violations(stack)) == {("guarded/unprotected", "deletion-protection")}

    relaxed = make_stack(require_deletion_protection=False)
    _database(relaxed, "unprotected", protected=False)
    Testing.synth(relaxed)
    assert guards.violations(relaxed) == []


def test_markers_need_a_reason():
    stack = make_stack()
    with pytest.raises(ValidationError, match="reason must not be empty"):
        guards.mark_standby(stack, " ")


def test_check_message_names_every_violation_with_its_path():
    stack = make_stack()
    aws.cloudwatch_log_group.CloudwatchLogGroup(stack, "a", name="a")
    aws.cloudwatch_log_group.CloudwatchLogGroup(stack, "b", name="b")
    Testing.synth(stack)
    with pytest.raises(ValidationError) as error:
        guards.check(stack)
    assert "2 violation(s)" in str(error.value)
    assert "guarded/a: [unencrypted]" in str(error.value) and "guarded/b: [unencrypted]" in str(error.value)


def test_exemption_is_per_rule_and_needs_a_known_rule():
    stack = make_stack()
    topic = aws.sns_topic.SnsTopic(stack, "config-topic", name="t")
    guards.exempt(topic, "unencrypted", "AWS Config cannot publish to a KMS-encrypted topic")
    aws.sns_topic.SnsTopic(stack, "other-topic", name="u")
    assert rules(synth_violations(stack)) == {("guarded/other-topic", "unencrypted")}
    with pytest.raises(ValidationError, match="rule must be one of"):
        guards.exempt(topic, "encryption", "typo")


def test_a_violation_fails_synthesize_and_leaves_the_output_untouched(tmp_path, monkeypatch):
    import stacks
    from sophia_infra import synth

    def bad_app(app, _config):
        stack = TerraformStack(app, "data-dev")
        aws.provider.AwsProvider(stack, "aws", region="us-west-2", default_tags=[aws.provider.AwsProviderDefaultTags(tags=DEFAULT_TAGS)])
        tagging.apply(stack, "data")
        guards.install(stack)
        aws.cloudwatch_log_group.CloudwatchLogGroup(stack, "app-logs", name="x")

    monkeypatch.setattr(stacks, "build_app", bad_app)
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "data-dev").mkdir(parents=True)
    (outdir / "manifest.json").write_text("{}")
    (outdir / "stacks" / "data-dev" / "cdk.tf.json").write_text("kept")
    with pytest.raises(ValidationError) as error:
        synth.synthesize(outdir)
    assert "data-dev/app-logs: [unencrypted]" in str(error.value)
    assert synth._user_error(error.value) == str(error.value)
    assert [p.name for p in tmp_path.iterdir()] == ["cdktf.out"]  # the staging copy is gone
    assert (outdir / "stacks" / "data-dev" / "cdk.tf.json").read_text() == "kept"


def test_marks_belong_to_their_app_not_to_the_process():
    # Issue 12, point 7: marks were module-level dicts keyed by construct path, so a
    # second app with the same paths inherited the first app's exemptions.
    from constructs import Construct

    def build(marked: bool) -> TerraformStack:
        stack = make_stack()
        green, alb = Construct(stack, "green"), Construct(stack, "alb")
        _database(green, "instance", protected=False)
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            alb, "https", security_group_id="sg-1", from_port=443, to_port=443, ip_protocol="tcp", cidr_ipv4="0.0.0.0/0"
        )
        topic = aws.sns_topic.SnsTopic(stack, "topic", name="t")
        if marked:
            guards.mark_standby(green, "inactive blue/green colour")
            guards.allow_public_https(alb, "internet-facing ALB")
            guards.exempt(topic, "unencrypted", "AWS Config cannot publish to a KMS-encrypted topic")
        return stack

    first = build(marked=True)
    Testing.synth(first)
    assert guards.violations(first) == []
    second = build(marked=False)  # same construct paths, in another app, nothing marked
    assert rules(synth_violations(second)) == {
        ("guarded/green/instance", "deletion-protection"),
        ("guarded/alb/https", "public-ingress"),
        ("guarded/topic", "unencrypted"),
    }


def test_a_resource_written_by_an_override_is_judged_under_its_address():
    stack = make_stack()
    stack.add_override("resource.aws_sqs_queue.raw", {"name": "q"})  # no construct, no // path
    assert rules(synth_violations(stack)) == {("aws_sqs_queue.raw", "unencrypted"), ("aws_sqs_queue.raw", "untagged")}

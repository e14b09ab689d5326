"""``sophia_infra.review``: every risk flag from a real pair of synthesized outputs.

Each pair is two synths of the same small app (the project's constructs plus a
few raw resources) that differ in one construct argument; the review must flag
exactly the risk that argument introduces and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from cdktf import App, S3Backend, TerraformOutput, TerraformStack

from constructs_lib.providers import aws
from constructs_lib.security.policy import Principal, Statement, policy_document
from constructs_lib.storage.secure_bucket import SecureBucket, SecureBucketProps
from sophia_infra.review import cli, comparison, diff, iam, loader, model, render, waves

KEY = "arn:aws:kms:us-west-2:111111111111:key/11111111-2222-3333-4444-555555555555"


@dataclass(frozen=True)
class Knobs:
    """The arguments a test changes between base and head."""

    state_key: str = "sophia/dev/data.tfstate"
    db_identifier: str = "sophia-data-postgres-dev-blue"
    db_username: str = "sophia"
    db_deletion_protection: bool = True
    db_storage_encrypted: bool = True
    bucket_sse: str = "aws:kms"
    ingress_cidr: str = "10.10.0.0/16"
    second_ingress_cidr: str | None = None
    rule_cidr_ipv6: str | None = None
    policy_actions: tuple[str, ...] = ("s3:GetObject",)
    policy_resources: tuple[str, ...] = ("arn:aws:s3:::sophia-models-dev/*",)
    policy_principals: tuple[str, ...] = ("arn:aws:iam::111111111111:role/api",)
    extra_bucket: bool = False
    import_existing: bool = False
    aws_version_override: str | None = None
    required_version: str | None = None
    drop_models_bucket: bool = False
    bucket_prevent_destroy: bool = False
    bucket_force_destroy: bool = False
    region: str = "us-west-2"
    with_dns_stack: bool = True


def build(app: App, k: Knobs) -> None:
    data = TerraformStack(app, "data-dev")
    aws.provider.AwsProvider(data, "aws", region=k.region)
    S3Backend(data, bucket="sophia-terraform-state", key=k.state_key, region="us-west-2", encrypt=True)
    if k.aws_version_override:
        data.add_override("terraform.required_providers.aws.version", k.aws_version_override)
    if k.required_version:
        data.add_override("terraform.required_version", k.required_version)
    aws.db_instance.DbInstance(
        data,
        "db",
        identifier=k.db_identifier,
        username=k.db_username,
        engine="postgres",
        instance_class="db.t3.medium",
        allocated_storage=20,
        deletion_protection=k.db_deletion_protection,
        storage_encrypted=k.db_storage_encrypted,
        kms_key_id=KEY if k.db_storage_encrypted else None,
    )
    sg = aws.security_group.SecurityGroup(
        data,
        "db-sg",
        name="sophia-data-sg-dev",
        description="database",
        vpc_id="vpc-123",
        ingress=[
            aws.security_group.SecurityGroupIngress(from_port=5432, to_port=5432, protocol="tcp", cidr_blocks=[cidr])
            for cidr in (k.ingress_cidr, k.second_ingress_cidr)
            if cidr
        ],
    )
    if k.rule_cidr_ipv6:
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            data, "https", security_group_id=sg.id, ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv6=k.rule_cidr_ipv6
        )
    if not k.drop_models_bucket:
        models = SecureBucket(
            data,
            "models",
            SecureBucketProps(
                bucket_name="sophia-models-dev",
                kms_key_arn=KEY if k.bucket_sse == "aws:kms" else None,
                sse_algorithm=k.bucket_sse,
                prevent_destroy=k.bucket_prevent_destroy,
                force_destroy=k.bucket_force_destroy,
            ),
        )
        TerraformOutput(data, "models_bucket", value=models.bucket_arn)
    if k.extra_bucket or k.import_existing:
        extra = SecureBucket(data, "archive", SecureBucketProps(bucket_name="sophia-archive-dev", kms_key_arn=KEY))
        if k.import_existing:
            extra.bucket.import_from("sophia-archive-dev")
    doc = policy_document(
        data,
        "reader-policy",
        [
            Statement(
                sid="Read",
                actions=k.policy_actions,
                resources=k.policy_resources,
                principals=(Principal("AWS", k.policy_principals),),
            )
        ],
    )
    role = aws.iam_role.IamRole(data, "reader", name="sophia-data-reader-dev", assume_role_policy=doc.json)
    if k.import_existing:
        role.import_from("sophia-data-reader-dev")

    # A dependent stack: the cross-stack reference becomes a manifest dependency.
    api = TerraformStack(app, "api-dev")
    aws.provider.AwsProvider(api, "aws", region="us-west-2")
    aws.ssm_parameter.SsmParameter(api, "role", name="/sophia/dev/reader-role", type="String", value=role.arn)
    # An unrelated stack: never in the waves.
    if k.with_dns_stack:
        other = TerraformStack(app, "dns-dev")
        aws.provider.AwsProvider(other, "aws", region="us-west-2")
        aws.route53_zone.Route53Zone(other, "zone", name="dev.sophia.example")


_cache: dict[Knobs, Path] = {}


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    def run(knobs: Knobs) -> Path:
        if knobs not in _cache:
            outdir = tmp_path_factory.mktemp("out") / "cdktf.out"
            app = App(outdir=str(outdir))
            build(app, knobs)
            app.synth()
            _cache[knobs] = outdir
        return _cache[knobs]

    return run


@pytest.fixture(scope="module")
def compare(synth):
    def run(**changes) -> model.Review:
        return comparison.compare(loader.load(synth(Knobs())), loader.load(synth(replace(Knobs(), **changes))))

    return run


def categories(result: model.Review) -> set[str]:
    return {r.category for r in result.risks}


def test_identical_outputs_give_one_line(synth):
    result = comparison.compare(loader.load(synth(Knobs())), loader.load(synth(Knobs())))
    assert not result.changed
    assert render.render_markdown(result) == "No infrastructure changes (3 stacks compared).\n"
    assert json.loads(render.render_json(result))["changed"] is False


def test_database_username_change_is_a_stateful_replacement(compare):
    result = compare(db_username="admin")
    assert categories(result) == {"stateful-replaced"}
    (res,) = [r for s in result.stacks for r in s.resources]
    assert res.action == "replace" and res.address.startswith("aws_db_instance.")
    (change,) = res.changes
    assert (change.path, change.old, change.new, change.forces_replacement) == ("username", "sophia", "admin", True)


def test_database_identifier_change_is_an_in_place_rename(compare):
    """aws 5.100.0 renames an RDS instance in place (ModifyDBInstance): the provider's plan
    says so, where the old hand-written table called it a replacement."""
    result = compare(db_identifier="sophia-data-postgres-dev-green")
    (res,) = [r for s in result.stacks for r in s.resources]
    assert res.action == "change" and not result.risks


def test_ecr_encryption_is_a_replacement(synth):
    """Issue 12: encryption_type and kms_key of an ECR repository are force-new."""

    def repository(app: App, encryption: str) -> None:
        stack = TerraformStack(app, "ai-dev")
        aws.provider.AwsProvider(stack, "aws", region="us-west-2")
        config = aws.ecr_repository.EcrRepositoryEncryptionConfiguration(
            encryption_type=encryption, kms_key=KEY if encryption == "KMS" else None
        )
        aws.ecr_repository.EcrRepository(stack, "models", name="sophia-ai-models-dev", encryption_configuration=[config])

    outs = {}
    for encryption in ("AES256", "KMS"):
        app = App(outdir=str(synth(Knobs()).parent.parent / f"ecr-{encryption}"))
        repository(app, encryption)
        app.synth()
        outs[encryption] = loader.load(app.outdir)
    result = comparison.compare(outs["AES256"], outs["KMS"])
    (res,) = [r for s in result.stacks for r in s.resources]
    assert res.action == "replace"
    assert {c.path: c.forces_replacement for c in res.changes} == {
        "encryption_configuration[0].encryption_type": True,
        "encryption_configuration[0].kms_key": True,
    }
    assert categories(result) == {"stateful-replaced"}


def test_deletion_protection_turned_off(compare):
    result = compare(db_deletion_protection=False)
    assert categories(result) == {"protection-off"}
    assert "deletion_protection" in result.risks[0].reason


def test_removed_bucket_is_flagged_once_as_stateful(compare):
    result = compare(drop_models_bucket=True)
    assert categories(result) == {"stateful-removed"}
    assert [r.address.split(".")[0] for r in result.risks] == ["aws_s3_bucket"]


def test_bucket_encryption_weakened_to_s3_managed_keys(compare):
    result = compare(bucket_sse="AES256")
    assert categories(result) == {"encryption-weakened"}
    reasons = " ".join(r.reason for r in result.risks)
    assert "AES256" in reasons and "kms_master_key_id" in reasons


def test_database_encryption_removed_is_also_a_replacement(compare):
    result = compare(db_storage_encrypted=False)
    assert categories(result) == {"encryption-weakened", "stateful-replaced"}


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"policy_actions": ("s3:GetObject", "s3:PutObject")}, "new actions allowed: s3:PutObject"),
        ({"policy_actions": ("s3:*",)}, "wildcard action s3:*"),
        ({"policy_resources": ("*",)}, "resource `*` newly allowed for s3:GetObject"),
        (
            {"policy_principals": ("arn:aws:iam::111111111111:role/api", "arn:aws:iam::999999999999:root")},
            "new principals: AWS:arn:aws:iam::999999999999:root",
        ),
    ],
)
def test_policy_document_widening(compare, changes, needle):
    result = compare(**changes)
    assert categories(result) == {"iam-widened"}
    assert any(needle in r.reason for r in result.risks), [r.reason for r in result.risks]
    assert all(r.address.startswith("data.aws_iam_policy_document.") for r in result.risks)


def test_narrowing_a_policy_is_not_flagged(synth):
    wide = replace(Knobs(), policy_actions=("s3:GetObject", "s3:PutObject"))
    result = comparison.compare(loader.load(synth(wide)), loader.load(synth(Knobs())))
    assert result.changed and not result.risks


def test_inline_ingress_opened_to_the_internet(compare):
    result = compare(ingress_cidr="0.0.0.0/0")
    assert categories(result) == {"open-ingress"}
    assert result.risks[0].reason == "ingress tcp 5432-5432 from 0.0.0.0/0"


def test_ingress_split_in_halves_is_still_the_internet(compare):
    """0.0.0.0/1 + 128.0.0.0/1 on 5432: judged on address space, not on the string 0.0.0.0/0."""
    result = compare(ingress_cidr="0.0.0.0/1", second_ingress_cidr="128.0.0.0/1")
    assert categories(result) == {"open-ingress"}
    assert sorted(r.reason for r in result.risks) == ["ingress tcp 5432-5432 from 0.0.0.0/1", "ingress tcp 5432-5432 from 128.0.0.0/1"]
    assert render.render_markdown(result).count("open-ingress") >= 2


def test_new_ingress_rule_open_to_ipv6_internet(compare):
    result = compare(rule_cidr_ipv6="::/0")
    assert categories(result) == {"open-ingress"}
    assert [r.address.split(".")[0] for r in result.risks] == ["aws_vpc_security_group_ingress_rule"]


def test_new_ingress_rule_from_a_private_range_is_fine(compare):
    result = compare(rule_cidr_ipv6="fd00::/8")
    assert result.changed and not result.risks


def test_state_key_change(compare):
    result = compare(state_key="sophia/dev/database.tfstate")
    assert categories(result) == {"backend-changed"}
    assert "sophia/dev/data.tfstate" in result.risks[0].reason


def test_provider_version_change(compare):
    result = compare(aws_version_override="5.99.1")
    assert categories(result) == {"provider-version-changed"}
    assert result.risks[0].reason == '"5.100.0" -> "5.99.1"'


def test_a_new_terraform_requirement_is_a_reported_setting(compare):
    # Every setting of the terraform block is compared, not only the backend and providers:
    # a stricter required_version stops a deploy run with an older Terraform.
    result = compare(required_version=">= 1.11")
    (data,) = [s for s in result.stacks if s.changed]
    assert [(c.path, c.new) for c in data.settings] == [("terraform.required_version", ">= 1.11")]
    assert not result.risks


def test_added_bucket_is_an_addition_without_risk(compare):
    result = compare(extra_bucket=True)
    assert not result.risks
    (data,) = [s for s in result.stacks if s.changed]
    assert data.count("add") == 7 and data.count("import") == 0 and data.count("add", data=True) == 1


def test_imported_bucket_and_role_are_reported_as_imports(compare):
    result = compare(import_existing=True)
    (data,) = [s for s in result.stacks if s.changed]
    imports = {r.address.split(".")[0]: r.import_id for r in data.resources if r.action == "import"}
    # The role existed in base too: adopting it adds only the import block, still an import.
    assert imports == {"aws_s3_bucket": "sophia-archive-dev", "aws_iam_role": "sophia-data-reader-dev"}
    assert data.count("add") == 6 and not result.risks
    text = render.render_markdown(result)
    assert "2 to import" in text and "from id `sophia-archive-dev`" in text


def test_waves_follow_the_manifest_dependencies(compare):
    result = compare(db_deletion_protection=False)
    assert result.graph["api-dev"] == ("data-dev",)
    assert result.waves == [["data-dev"], ["api-dev"]]
    text = render.render_markdown(result)
    assert "1. `data-dev`\n2. `api-dev` (dependent, re-plan)" in text
    assert "data_dev --> api_dev" in text and "class data_dev changed" in text and "class api_dev dependent" in text
    assert "dns_dev" in text and "class dns_dev" not in text


def test_waves_levels_are_parallel_groups():
    graph = {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c"), "e": ()}
    assert waves.waves(graph, ["a"]) == [["a"], ["b", "c"], ["d"]]
    assert waves.waves(graph, ["c", "e"]) == [["c", "e"], ["d"]]


def test_policy_json_strings_are_diffed_structurally():
    old = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    new = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}]})
    (change,) = diff.diff_values({"policy": old}, {"policy": new})
    assert change.path == "policy (json).Statement[0].Action"
    assert (change.old, change.new) == ("s3:GetObject", ["s3:GetObject", "s3:PutObject"])


def test_token_references_are_kept_verbatim():
    (change,) = diff.diff_values({"vpc_id": "${aws_vpc.a.id}"}, {"vpc_id": "${aws_vpc.b.id}"})
    assert render.change_line(change) == "  - `vpc_id`: `\"${aws_vpc.a.id}\"` → `\"${aws_vpc.b.id}\"`"


@pytest.mark.parametrize(
    ("ignored", "path", "expected"),
    [
        (("snapshot_identifier",), "snapshot_identifier", True),
        (("scaling_config[0].desired_size",), "scaling_config[0].desired_size", True),
        (("tags",), "tags.Owner", True),
        (("snapshot_identifier",), "snapshot_identifier_suffix", False),
        (("snapshot_identifier",), "identifier", False),
        (("all",), "identifier", True),
        # The lifecycle block itself is configuration Terraform always reads.
        (("all",), "lifecycle.ignore_changes", False),
    ],
)
def test_ignore_changes_matches_the_listed_attributes_only(ignored, path, expected):
    assert diff.is_ignored(path, ignored) is expected


def test_an_ignored_force_new_attribute_replaces_nothing(tmp_path):
    def out(name: str, snapshot: str) -> Path:
        app = App(outdir=str(tmp_path / name))
        stack = TerraformStack(app, "data-dev")
        aws.provider.AwsProvider(stack, "aws", region="us-west-2")
        for id_, lifecycle in (("kept", {"ignore_changes": ["snapshot_identifier"]}), ("plain", None)):
            aws.db_instance.DbInstance(
                stack, id_, identifier=f"db-{id_}", instance_class="db.t4g.medium", snapshot_identifier=snapshot, lifecycle=lifecycle
            )
        app.synth()
        return tmp_path / name

    result = comparison.compare(loader.load(out("base", "snap-1")), loader.load(out("head", "snap-2")))
    actions = {r.address.split(".")[1]: r.action for s in result.stacks for r in s.resources}
    assert actions == {"kept": "change", "plain": "replace"}
    assert [r.address for r in result.risks] == ["aws_db_instance.plain"]


def test_markdown_and_json_are_deterministic(synth):
    base, head = synth(Knobs()), synth(replace(Knobs(), db_username="admin", ingress_cidr="0.0.0.0/0"))
    first = comparison.compare(loader.load(base), loader.load(head))
    second = comparison.compare(loader.load(base), loader.load(head))
    assert render.render_markdown(first) == render.render_markdown(second)
    assert render.render_json(first) == render.render_json(second)
    payload = json.loads(render.render_json(first))
    assert {r["category"] for r in payload["risks"]} == {"stateful-replaced", "open-ingress"}


def test_cli_compares_two_directories(synth, capsys):
    assert cli.main([str(synth(Knobs())), str(synth(Knobs())), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is False


def test_cli_rejects_a_directory_without_manifest(tmp_path, capsys):
    assert cli.main([str(tmp_path), str(tmp_path)]) == 1
    assert "no manifest.json" in capsys.readouterr().err


def test_truncation_keeps_within_the_limit_and_says_so():
    text = "## Review\n\n```mermaid\n" + "a --> b\n" * 1000 + "```\n"
    cut = render.truncate(text, 500)
    assert len(cut) <= 500 and cut.count("```") % 2 == 0 and "truncated" in cut
    assert render.truncate("short\n", 500) == "short\n"


def test_prevent_destroy_turned_off(synth):
    protected = replace(Knobs(), bucket_prevent_destroy=True)
    result = comparison.compare(loader.load(synth(protected)), loader.load(synth(Knobs())))
    assert categories(result) == {"protection-off"}
    assert "`lifecycle.prevent_destroy` turned off" in result.risks[0].reason


def test_force_destroy_turned_on(compare):
    result = compare(bucket_force_destroy=True)
    assert categories(result) == {"protection-off"}
    assert result.risks[0].reason == "`force_destroy` turned on"


def test_provider_region_change(compare):
    result = compare(region="us-east-1")
    assert categories(result) == {"provider-region-changed"}


def test_removed_stack_is_destroyed_and_its_stateful_resources_flagged(compare):
    result = compare(with_dns_stack=False)
    assert result.removed_stacks == ["dns-dev"] and result.waves == []
    # A hosted zone holds records but is not in STATEFUL_TYPES: removal shown, not flagged.
    assert not result.risks
    assert "Stacks removed (destroy dependents first): `dns-dev`" in render.render_markdown(result)
    assert "class dns_dev removed" in render.render_markdown(result)


def test_added_stack_raises_no_backend_or_provider_flags(synth):
    result = comparison.compare(loader.load(synth(replace(Knobs(), with_dns_stack=False))), loader.load(synth(Knobs())))
    (dns,) = [s for s in result.stacks if s.changed]
    assert dns.status == "added" and dns.count("add") == 1 and not result.risks


def test_removed_deny_statement_and_condition_widen_a_policy():
    old = {"statement": [
        {"sid": "Read", "effect": "Allow", "actions": ["s3:GetObject"], "resources": ["*"],
         "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["true"]}]},
        {"sid": "NoDelete", "effect": "Deny", "actions": ["s3:DeleteObject"], "resources": ["*"]},
    ]}  # fmt: skip
    new = {"statement": [{"sid": "Read", "effect": "Allow", "actions": ["s3:GetObject"], "resources": ["*"]}]}
    reasons = iam.widening(iam.statements(old), iam.statements(new))
    assert reasons == [
        "condition removed from statement Read: Bool:aws:SecureTransport=['true']",
        "Deny statement NoDelete removed or changed (s3:DeleteObject)",
    ]


def test_done_when_scenario_flags_exactly_the_database_and_the_open_group(compare):
    """A change that replaces a database, opens a security group and adds a bucket."""
    result = compare(db_username="admin", ingress_cidr="0.0.0.0/0", extra_bucket=True)
    assert sorted((r.category, r.address.split(".")[0]) for r in result.risks) == [
        ("open-ingress", "aws_security_group"),
        ("stateful-replaced", "aws_db_instance"),
    ]
    (data,) = [s for s in result.stacks if s.changed]
    assert {r.address.split(".")[0] for r in data.resources if r.action == "add"} >= {"aws_s3_bucket"}


FAKE_APP = """
import json, os, pathlib
out = pathlib.Path(os.environ["CDKTF_OUTDIR"])
(out / "stacks" / "app-dev").mkdir(parents=True)
bucket = pathlib.Path("bucket.txt").read_text().strip()
doc = {"resource": {"aws_s3_bucket": {"b": {"bucket": bucket}}}}
(out / "stacks" / "app-dev" / "cdk.tf.json").write_text(json.dumps(doc))
manifest = {"stacks": {"app-dev": {"dependencies": [], "synthesizedStackPath": "stacks/app-dev/cdk.tf.json"}}}
(out / "manifest.json").write_text(json.dumps(manifest))
"""


def test_base_ref_is_synthesized_in_a_temporary_worktree(tmp_path, monkeypatch, capsys):
    """``--base-ref`` (make review): a git repository whose app writes one bucket named by a file."""
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.py").write_text(FAKE_APP)
    (repo / "bucket.txt").write_text("sophia-old\n")

    def git(*args):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "base")
    monkeypatch.chdir(repo)
    assert cli.main(["--base-ref", "HEAD"]) == 0
    assert capsys.readouterr().out == "No infrastructure changes (1 stacks compared).\n"

    (repo / "bucket.txt").write_text("sophia-new\n")
    assert cli.main(["--base-ref", "HEAD", "--format", "json", "--save-base", str(tmp_path / "base")]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [r["category"] for r in payload["risks"]] == ["stateful-replaced"]
    assert json.loads((tmp_path / "base/stacks/app-dev/cdk.tf.json").read_text())["resource"]["aws_s3_bucket"]["b"]["bucket"] == "sophia-old"
    # The temporary worktree is gone.
    listing = subprocess.run(["git", "-C", str(repo), "worktree", "list"], capture_output=True, text=True, check=True).stdout
    assert len(listing.strip().splitlines()) == 1


def test_save_base_never_deletes_a_folder_the_user_owns(tmp_path, monkeypatch, capsys):
    """Issue 12: ``--save-base DIR`` deleted what DIR held. It is refused before the
    synthesis and left as it was; a previous synthesis output is replaced."""
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.py").write_text(FAKE_APP)
    (repo / "bucket.txt").write_text("sophia-old\n")
    for args in (["init", "-q"], ["add", "."], ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    monkeypatch.chdir(repo)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    assert cli.main(["--base-ref", "HEAD", "--save-base", str(mine)]) == 1
    err = capsys.readouterr().err
    assert "--save-base folder" in err and "is not a previous synthesis output: it holds notes.txt" in err
    assert (mine / "notes.txt").read_text() == "precious" and sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert cli.main(["--base-ref", "HEAD", "--save-base", str(repo)]) == 1  # the repository itself
    assert "is the working directory" in capsys.readouterr().err and (repo / "main.py").exists()
    assert cli.main(["--base-ref", "HEAD", "--save-base", str(tmp_path / "base")]) == 0
    assert cli.main(["--base-ref", "HEAD", "--save-base", str(tmp_path / "base")]) == 0  # its own output: replaced
    assert (tmp_path / "base" / "manifest.json").is_file()

"""``GithubActionsRunner``: AWS CodeBuild-hosted GitHub Actions runners inside a VPC.

CodeBuild receives the repository's ``workflow_job`` webhook (filtered on
``WORKFLOW_JOB_QUEUED``) and, for a job whose ``runs-on`` label is
``codebuild-<project_name>-<run_id>-<run_attempt>``, starts a build in the VPC's
private subnets that registers as an ephemeral self-hosted runner, runs that one job
and ends (https://docs.aws.amazon.com/codebuild/latest/userguide/action-runner.html).
Jobs that need a private endpoint (the EKS API) run there; nothing is exposed.

The runner holds no deployment rights. Its service role may only write the build's
logs, attach the build to the subnets and use the GitHub connection; a job gets AWS
credentials the same way as on GitHub-hosted runners, through GitHub's OIDC token and
a role that trusts the job's ``environment:``. Whoever can push a workflow can send a
job to this runner (the label is all it takes, as with any self-hosted runner): what
that job reaches is what admits the runner's security group, which
:meth:`allow_https_to` grants one port at a time.

Source access goes through an AWS CodeConnections connection (named on the project,
not an account-wide CodeBuild source credential), created once in the console, where
its GitHub App handshake happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import Fn, Token
from constructs import Construct

from constructs_lib import tagging
from constructs_lib.ci.github import CONNECTION_ARN, REPOSITORY
from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupProps
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.iam_role import IamRole, IamRoleProps, InlinePolicy
from constructs_lib.security.policy import Condition, Principal, Statement

COMPUTE_TYPES = ("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE")


@dataclass(frozen=True)
class GithubActionsRunnerProps:
    project_name: str
    """CodeBuild project name; jobs select the runner with the label ``codebuild-<project_name>-...``."""
    repository: str
    """``<owner>/<name>`` of the repository whose workflow jobs the runner takes."""
    connection_arn: str
    """AWS CodeConnections connection to GitHub (``AVAILABLE``), same account and region."""
    vpc_id: str
    """VPC the builds run in."""
    subnet_ids: Sequence[str]
    """Private subnets (a NAT route to GitHub and the package registries). A list or a reference to one."""
    security_group_name: str
    """Name of the runner's security group (egress HTTPS only, no ingress)."""
    role_name: str
    """Name of the CodeBuild service role this construct creates."""
    log_group_name: str
    """CloudWatch Logs group of the builds."""
    log_retention_days: int
    """Days the build logs are kept (a CloudWatch Logs retention value)."""
    log_kms_key_arn: str
    """Key encrypting the log group (its policy must admit CloudWatch Logs)."""
    encryption_key_arn: str
    """Customer-managed key CodeBuild encrypts build output with."""
    compute_type: str = "BUILD_GENERAL1_MEDIUM"
    """One of :data:`COMPUTE_TYPES`. Default: ``BUILD_GENERAL1_MEDIUM``."""
    image: str = "aws/codebuild/standard:7.0"
    """CodeBuild-curated Linux image. Default: ``aws/codebuild/standard:7.0`` (Ubuntu 22.04, where
    ``actions/setup-python`` and ``actions/setup-node`` find prebuilt runtimes)."""
    build_timeout_minutes: int = 120
    """A job running longer is stopped (5..480). Default: 120."""
    queued_timeout_minutes: int = 60
    """A job waiting longer for capacity is dropped (5..480). Default: 60."""
    concurrent_build_limit: int = 2
    """Runners started at once (>= 1). Default: 2."""


class GithubActionsRunner(Construct):
    """Outputs: ``project_name``, ``project_arn``, ``runner_label`` (the ``runs-on`` prefix),
    ``security_group_id``, ``role_arn``, ``log_group_name``."""

    def __init__(self, scope: Construct, id_: str, props: GithubActionsRunnerProps):
        super().__init__(scope, id_)
        service = self._validate(id_, props)
        tagging.set_component(self, "ci")
        self._props = props
        identity = aws.data_aws_caller_identity.DataAwsCallerIdentity(self, "identity")
        region = aws.data_aws_region.DataAwsRegion(self, "region").name
        partition = aws.data_aws_partition.DataAwsPartition(self, "partition").partition
        account = identity.account_id
        project_arn = f"arn:{partition}:codebuild:{region}:{account}:project/{props.project_name}"

        self.security_group = self._create_security_group(props)
        self.log_group = EncryptedLogGroup(
            self,
            "log-group",
            EncryptedLogGroupProps(
                name=props.log_group_name, retention_days=props.log_retention_days, kms_key_arn=props.log_kms_key_arn
            ),
        )
        self.role = IamRole(
            self,
            "role",
            IamRoleProps(
                role_name=props.role_name,
                description=f"CodeBuild runs the GitHub Actions runner {props.project_name}",
                assumed_by=(Principal("Service", ("codebuild.amazonaws.com",)),),
                # Against the confused deputy: only this project, in this account.
                trust_conditions=(
                    Condition("StringEquals", "aws:SourceAccount", (account,)),
                    Condition("ArnLike", "aws:SourceArn", (project_arn,)),
                ),
                inline_policies=(
                    InlinePolicy("runner", self._statements(service, partition, region, account)),
                ),
            ),
        )
        self.project = self._create_project(props)
        self.webhook = aws.codebuild_webhook.CodebuildWebhook(
            self,
            "webhook",
            project_name=self.project.name,
            build_type="BUILD",
            filter_group=[
                aws.codebuild_webhook.CodebuildWebhookFilterGroup(
                    filter=[aws.codebuild_webhook.CodebuildWebhookFilterGroupFilter(type="EVENT", pattern="WORKFLOW_JOB_QUEUED")]
                )
            ],
        )

        self.project_name: str = self.project.name
        self.project_arn: str = self.project.arn
        self.runner_label: str = f"codebuild-{props.project_name}"
        self.security_group_id: str = self.security_group.id
        self.role_arn: str = self.role.role_arn
        self.log_group_name: str = self.log_group.log_group_name

    def allow_https_to(self, id_: str, security_group_id: str, description: str):
        """Admit the runners on TCP 443 into ``security_group_id`` (e.g. the EKS cluster's).

        Returns the ``aws_vpc_security_group_ingress_rule``, created in this construct so
        that it goes with the runner."""
        return aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            self,
            f"https-to-{id_}",
            security_group_id=security_group_id,
            referenced_security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description=description,
        )

    # --- pieces ---------------------------------------------------------------------------

    def _create_security_group(self, props: GithubActionsRunnerProps) -> aws.security_group.SecurityGroup:
        group = aws.security_group.SecurityGroup(
            self,
            "security-group",
            name=props.security_group_name,
            description=f"CodeBuild GitHub Actions runner {props.project_name}: HTTPS out, nothing in",
            vpc_id=props.vpc_id,
            tags={"Name": props.security_group_name},
        )
        # GitHub, the package registries and the AWS APIs are HTTPS; DNS goes to the VPC
        # resolver, which security groups do not filter.
        aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
            self,
            "egress-https",
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            description="HTTPS: GitHub, package registries, AWS APIs",
        )
        return group

    def _create_project(self, props: GithubActionsRunnerProps) -> aws.codebuild_project.CodebuildProject:
        return aws.codebuild_project.CodebuildProject(
            self,
            "project",
            name=props.project_name,
            description=f"Ephemeral GitHub Actions runners for {props.repository}, inside {props.vpc_id}",
            service_role=self.role.role_arn,
            artifacts=aws.codebuild_project.CodebuildProjectArtifacts(type="NO_ARTIFACTS"),
            environment=aws.codebuild_project.CodebuildProjectEnvironment(
                type="LINUX_CONTAINER",
                compute_type=props.compute_type,
                image=props.image,
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=False,
            ),
            source=aws.codebuild_project.CodebuildProjectSource(
                type="GITHUB",
                location=f"https://github.com/{props.repository}.git",
                auth=aws.codebuild_project.CodebuildProjectSourceAuth(type="CODECONNECTIONS", resource=props.connection_arn),
            ),
            vpc_config=aws.codebuild_project.CodebuildProjectVpcConfig(
                vpc_id=props.vpc_id,
                subnets=props.subnet_ids,
                security_group_ids=[self.security_group.id],
            ),
            logs_config=aws.codebuild_project.CodebuildProjectLogsConfig(
                cloudwatch_logs=aws.codebuild_project.CodebuildProjectLogsConfigCloudwatchLogs(
                    status="ENABLED", group_name=self.log_group.log_group_name
                ),
                s3_logs=aws.codebuild_project.CodebuildProjectLogsConfigS3Logs(status="DISABLED"),
            ),
            encryption_key=props.encryption_key_arn,
            build_timeout=props.build_timeout_minutes,
            queued_timeout=props.queued_timeout_minutes,
            concurrent_build_limit=props.concurrent_build_limit,
            # CreateProject checks the role can describe the VPC.
            depends_on=list(self.role.inline_policies.values()),
        )

    def _statements(self, service: str, partition: str, region: str, account: str) -> tuple[Statement, ...]:
        props = self._props
        # https://docs.aws.amazon.com/codebuild/latest/userguide/auth-and-access-control-iam-identity-based-access-control.html
        return (
            Statement(
                sid="BuildLogs",
                actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                resources=(f"{self.log_group.log_group_arn}:log-stream:*",),
            ),
            # The describe calls have no resource-level permissions.
            Statement(
                sid="DescribeVpc",
                actions=(
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                ),
                resources=("*",),
            ),
            # A build's network interface: in this account's subnets, with the runner's group only.
            Statement(
                sid="BuildNetworkInterfaces",
                actions=("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"),
                resources=(
                    f"arn:{partition}:ec2:{region}:{account}:network-interface/*",
                    f"arn:{partition}:ec2:{region}:{account}:subnet/*",
                    f"arn:{partition}:ec2:{region}:{account}:security-group/{self.security_group.id}",
                ),
            ),
            Statement(
                sid="AttachToSubnets",
                actions=("ec2:CreateNetworkInterfacePermission",),
                resources=(f"arn:{partition}:ec2:{region}:{account}:network-interface/*",),
                conditions=(
                    Condition("StringEquals", "ec2:AuthorizedService", ("codebuild.amazonaws.com",)),
                    Condition(
                        "ArnEquals",
                        "ec2:Subnet",
                        # The subnet ids may be a reference to a list (another stack's
                        # output): Terraform builds the ARNs.
                        tuple(Token.as_list(Fn.formatlist(f"arn:{partition}:ec2:{region}:{account}:subnet/%s", [props.subnet_ids]))),
                    ),
                ),
            ),
            Statement(
                sid="GithubConnection",
                actions=tuple(f"{service}:{a}" for a in ("GetConnection", "GetConnectionToken", "UseConnection")),
                resources=(props.connection_arn,),
            ),
            Statement(
                sid="BuildOutputKey",
                actions=("kms:Decrypt", "kms:GenerateDataKey*"),
                resources=(props.encryption_key_arn,),
            ),
        )

    @staticmethod
    def _validate(id_: str, props: GithubActionsRunnerProps) -> str:
        """Check the props; return the connection's service prefix (its IAM action namespace)."""
        where = f"GithubActionsRunner {id_}"
        check(props.project_name, ResourceKind.CODEBUILD_PROJECT)
        check(props.role_name, ResourceKind.IAM_ROLE)
        check(props.security_group_name, ResourceKind.SECURITY_GROUP)
        if not REPOSITORY.fullmatch(props.repository):
            raise ValidationError(f"{where}: repository must be '<owner>/<name>', got {props.repository!r}")
        match = CONNECTION_ARN.fullmatch(props.connection_arn)
        if not match:
            raise ValidationError(
                f"{where}: connection_arn must be a CodeConnections connection ARN, got {props.connection_arn!r}"
            )
        if props.compute_type not in COMPUTE_TYPES:
            raise ValidationError(f"{where}: compute_type must be one of {COMPUTE_TYPES!r}, got {props.compute_type!r}")
        if not props.image.startswith("aws/codebuild/"):
            raise ValidationError(f"{where}: image must be a CodeBuild-curated image (aws/codebuild/...), got {props.image!r}")
        for field in ("build_timeout_minutes", "queued_timeout_minutes"):
            if not 5 <= getattr(props, field) <= 480:
                raise ValidationError(f"{where}: {field} must be 5..480, got {getattr(props, field)}")
        if props.concurrent_build_limit < 1:
            raise ValidationError(f"{where}: concurrent_build_limit must be >= 1, got {props.concurrent_build_limit}")
        for field in ("log_kms_key_arn", "encryption_key_arn"):
            if not getattr(props, field):
                raise ValidationError(f"{where}: {field} must be a KMS key ARN, got {getattr(props, field)!r}")
        return match.group("service")

"""``ModelRegistry``: where model images and model artifacts are kept.

An ECR repository for the model-server images (immutable tags, scan on push,
KMS encryption, a lifecycle policy) and a model-artifacts ``SecureBucket``
(versioned, KMS, ``models/`` archived to Glacier). Grant helpers give a role
exactly the ECR and S3 actions it needs, on this repository and bucket only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from constructs import Construct

from constructs_lib import tagging
from constructs_lib.ai.model_registry_props import ModelRegistryProps
from constructs_lib.errors import ValidationError
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws
from constructs_lib.security.policy import Statement, inline_role_policy
from constructs_lib.storage.secure_bucket import (
    LifecycleRule,
    SecureBucket,
    SecureBucketProps,
    Transition,
)

# The actions of the AWS managed policy AmazonEC2ContainerRegistryPullOnly, scoped to one repository.
_PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")
_PUSH_ACTIONS = _PULL_ACTIONS + (
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)
# One lifecycle rule per release prefix keeps the last N images of *each* model: a
# single rule over all tags would let frequent pushes of one model expire the image
# another model is still running. The cap keeps the policy under ECR's 30 KB limit.
_MAX_RULES = 50


@dataclass(frozen=True)
class _LifecycleRule:
    """One ECR lifecycle rule (the JSON shape AWS documents for ``PutLifecyclePolicy``)."""

    priority: int
    description: str
    tag_status: str
    count_type: str
    count_number: int
    tag_prefixes: tuple[str, ...] = field(default=())

    def render(self) -> dict:
        selection: dict = {"tagStatus": self.tag_status}
        if self.tag_prefixes:
            selection["tagPrefixList"] = list(self.tag_prefixes)
        selection["countType"] = self.count_type
        if self.count_type == "sinceImagePushed":
            selection["countUnit"] = "days"
        selection["countNumber"] = self.count_number
        return {
            "rulePriority": self.priority,
            "description": self.description,
            "selection": selection,
            "action": {"type": "expire"},
        }


class ModelRegistry(Construct):
    """ECR repository and artifacts bucket for the models of one environment.

    Outputs: ``repository_url``, ``repository_arn``, ``repository_name``,
    ``bucket_name``, ``bucket_arn``.
    """

    def __init__(self, scope: Construct, id_: str, props: ModelRegistryProps):
        super().__init__(scope, id_)
        tagging.set_component(self, "ai")
        self.props = props
        self._validate(id_, props)

        self.repository = aws.ecr_repository.EcrRepository(
            self,
            "repository",
            name=props.repository_name,
            # A deployed tag must always mean the same image: Deployments pin tags, and
            # rollback relies on the old tag still naming the old image.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr_repository.EcrRepositoryImageScanningConfiguration(
                scan_on_push=True
            ),
            encryption_configuration=[
                aws.ecr_repository.EcrRepositoryEncryptionConfiguration(
                    encryption_type="KMS", kms_key=props.kms_key_arn
                )
            ],
            force_delete=props.force_delete or None,
        )
        aws.ecr_lifecycle_policy.EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=self.repository.name,
            policy=json.dumps(self.lifecycle_policy(), sort_keys=True),
        )

        retention = props.retention
        self.artifacts = SecureBucket(
            self,
            "artifacts",
            SecureBucketProps(
                bucket_name=props.bucket_name,
                kms_key_arn=props.kms_key_arn,
                force_destroy=props.force_delete,
                lifecycle_rules=(
                    LifecycleRule(
                        id="archive-models",
                        prefix="models/",
                        transitions=(Transition(retention.artifacts_glacier_days, "GLACIER"),),
                        noncurrent_transitions=(Transition(retention.artifacts_noncurrent_glacier_days, "GLACIER"),),
                        noncurrent_expiration_days=retention.artifacts_noncurrent_expiry_days,
                    ),
                    LifecycleRule(id="expire-noncurrent", noncurrent_expiration_days=retention.artifacts_noncurrent_expiry_days),
                ),
            ),
        )

        self.repository_url: str = self.repository.repository_url
        self.repository_arn: str = self.repository.arn
        self.repository_name: str = self.repository.name
        self.bucket_name: str = self.artifacts.bucket_name
        self.bucket_arn: str = self.artifacts.bucket_arn

    @staticmethod
    def _validate(id_: str, props: ModelRegistryProps) -> None:
        check(props.repository_name, ResourceKind.ECR_REPOSITORY)
        if not props.kms_key_arn:
            raise ValidationError(f"ModelRegistry {id_}: kms_key_arn must be a KMS key ARN, got {props.kms_key_arn!r}")
        if len(props.release_tag_prefixes) > _MAX_RULES:
            raise ValidationError(
                f"ModelRegistry {id_}: release_tag_prefixes allows at most {_MAX_RULES} prefixes, "
                f"got {len(props.release_tag_prefixes)}"
            )
        if len(set(props.release_tag_prefixes)) != len(props.release_tag_prefixes):
            raise ValidationError(
                f"ModelRegistry {id_}: release_tag_prefixes must be unique, got {props.release_tag_prefixes!r}"
            )
        for prefix in props.release_tag_prefixes:
            if not prefix or len(prefix) > 127:
                raise ValidationError(f"ModelRegistry {id_}: release tag prefix must be 1..127 characters, got {prefix!r}")
        # A prefix that starts another ("gpt-" and "gpt-j-") would let one model's
        # pushes expire the other's releases.
        for a in props.release_tag_prefixes:
            for b in props.release_tag_prefixes:
                if a != b and b.startswith(a):
                    raise ValidationError(
                        f"ModelRegistry {id_}: release tag prefix {a!r} also matches {b!r}'s tags; "
                        f"end each prefix with a separator that keeps them apart"
                    )

    def lifecycle_policy(self) -> dict:
        """The ECR lifecycle policy document (also what ``EcrLifecyclePolicy`` receives as JSON)."""
        p = self.props.retention
        rules = [
            _LifecycleRule(
                priority=1,
                description=f"Expire untagged images after {p.untagged_image_expiry_days} days",
                tag_status="untagged",
                count_type="sinceImagePushed",
                count_number=p.untagged_image_expiry_days,
            )
        ]
        for index, prefix in enumerate(self.props.release_tag_prefixes, start=2):
            rules.append(
                _LifecycleRule(
                    priority=index,
                    description=f"Keep the last {p.keep_last_releases} {prefix}* releases",
                    tag_status="tagged",
                    count_type="imageCountMoreThan",
                    count_number=p.keep_last_releases,
                    tag_prefixes=(prefix,),
                )
            )
        return {"rules": [rule.render() for rule in rules]}

    # --- grants -----------------------------------------------------------------------------

    # Each grant is named after its grantee (``grant-<grantee_id>-<access>``), not after the
    # order of the calls: with a counter, removing one model would renumber, and so replace
    # (``role`` and ``name`` force a new role policy), every grant made after it.

    def grant_pull(self, grantee_id: str, role_name: str) -> aws.iam_role_policy.IamRolePolicy:
        """Let the role pull images from this repository (and no other)."""
        return self._grant(grantee_id, role_name, "pull", [
            self._authorization_token(),
            Statement(sid="PullModelImages", actions=_PULL_ACTIONS, resources=(self.repository_arn,)),
        ])

    def grant_read_artifacts(self, grantee_id: str, role_name: str) -> aws.iam_role_policy.IamRolePolicy:
        """Let the role read model artifacts: :meth:`SecureBucket.read_statements` of the
        artifacts bucket (list it, get objects, decrypt them through S3 only)."""
        return self._grant(grantee_id, role_name, "read-artifacts", self.artifacts.read_statements())

    def grant_push(self, grantee_id: str, role_name: str) -> aws.iam_role_policy.IamRolePolicy:
        """Let the role (a CI pipeline) push images and write artifacts. It cannot delete
        images or change the repository; with immutable tags it cannot overwrite a release."""
        return self._grant(grantee_id, role_name, "push", [
            self._authorization_token(),
            Statement(sid="PushModelImages", actions=_PUSH_ACTIONS, resources=(self.repository_arn,)),
            *self.artifacts.read_statements(),
            *self.artifacts.write_statements(delete=False),
        ])

    @staticmethod
    def _authorization_token() -> Statement:
        # GetAuthorizationToken has no resource-level permissions: it must be "*"
        # (https://docs.aws.amazon.com/AmazonECR/latest/userguide/security_iam_service-with-iam.html).
        return Statement(sid="EcrLogin", actions=("ecr:GetAuthorizationToken",), resources=("*",))

    def _grant(
        self, grantee_id: str, role_name: str, what: str, statements: list[Statement]
    ) -> aws.iam_role_policy.IamRolePolicy:
        name = check(f"{self.props.repository_name.replace('/', '-')}-{what}", ResourceKind.IAM_POLICY)
        return inline_role_policy(self, f"grant-{grantee_id}-{what}", name=name, role=role_name, statements=statements)

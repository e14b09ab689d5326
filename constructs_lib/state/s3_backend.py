"""The S3 state backend every function stack uses."""

from __future__ import annotations

from cdktf import S3Backend, S3BackendAssumeRoleConfig, TerraformStack


def use_s3_backend(
    stack: TerraformStack,
    *,
    bucket: str,
    key: str,
    region: str,
    lock_table: str,
    use_lockfile: bool,
    role_arn: str | None = None,
    kms_key_id: str | None = None,
    workspace_key_prefix: str | None = None,
) -> S3Backend:
    """Keep ``stack``'s state at ``s3://bucket/key``, encrypted, locked in DynamoDB.

    ``role_arn``: the role the backend assumes to reach the state (the state account's
    role for this environment). cdktf copies a backend's properties into the
    ``terraform_remote_state`` data sources that other stacks use to read this stack's
    outputs, so those reads assume the same role.

    ``kms_key_id``: the key the state objects are encrypted with (SSE-KMS). Without it
    ``encrypt = true`` makes the backend ask for SSE-S3 (AES256) on every upload, which
    overrides the bucket's default KMS encryption.

    ``workspace_key_prefix``: where non-default workspaces live; the backend lists it on
    every state access (see :mod:`constructs_lib.state.layout`).

    ``use_lockfile`` adds S3 native locking (Terraform >= 1.10). cdktf 0.21's
    ``S3Backend`` has no such property, so it is written as an override.
    """
    backend = S3Backend(
        stack,
        bucket=bucket,
        key=key,
        region=region,
        dynamodb_table=lock_table,
        encrypt=True,
        kms_key_id=kms_key_id,
        workspace_key_prefix=workspace_key_prefix,
        assume_role=S3BackendAssumeRoleConfig(role_arn=role_arn) if role_arn else None,
    )
    if use_lockfile:
        stack.add_override("terraform.backend.s3.use_lockfile", True)
    return backend

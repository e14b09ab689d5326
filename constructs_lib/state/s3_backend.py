"""The S3 state backend every function stack uses."""

from __future__ import annotations

from cdktf import S3Backend, TerraformStack


def use_s3_backend(
    stack: TerraformStack,
    *,
    bucket: str,
    key: str,
    region: str,
    lock_table: str,
    use_lockfile: bool,
) -> S3Backend:
    """Keep ``stack``'s state at ``s3://bucket/key``, encrypted, locked in DynamoDB.

    ``use_lockfile`` adds S3 native locking (Terraform >= 1.10). cdktf 0.21's
    ``S3Backend`` has no such property, so it is written as an override.
    """
    backend = S3Backend(stack, bucket=bucket, key=key, region=region, dynamodb_table=lock_table, encrypt=True)
    if use_lockfile:
        stack.add_override("terraform.backend.s3.use_lockfile", True)
    return backend

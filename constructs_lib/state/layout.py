"""Where each environment's Terraform state lives in the state bucket and lock table.

One home for the names the backends write and the grants of the state resources
limit: an environment owns the key prefix ``<project>/<env>/`` and nothing else.
Every object and lock item Terraform 1.11's S3 backend makes for a stack of that
environment falls under it:

* the state object ``<project>/<env>/<function>.tfstate`` (:func:`state_key`);
* the S3 native lock file, the state key plus ``.tflock``
  (``internal/backend/remote-state/s3``: ``lockFileName = key + ".tflock"``);
* the DynamoDB lock item, ``LockID = "<bucket>/<key>"``, and the digest item the backend
  keeps beside it, ``"<bucket>/<key>-md5"`` (``lockPath()`` and ``stateIDSuffix``);
* other workspaces' states, under the workspace prefix :func:`workspace_key_prefix`,
  which the backend lists (``s3:ListBucket`` with that prefix) whenever it opens a
  state, for ``terraform_remote_state`` reads too.

Pure functions: the configuration model and the stacks may import this module
without starting the jsii runtime.
"""

from __future__ import annotations


def environment_prefix(project: str, environment: str) -> str:
    """``<project>/<env>``: the key prefix (without the trailing slash) an environment owns."""
    return f"{project}/{environment}"


def state_key(project: str, environment: str, function: str) -> str:
    """The state object of the ``<function>-<env>`` stack."""
    return f"{environment_prefix(project, environment)}/{function}.tfstate"


def workspace_key_prefix(project: str, environment: str) -> str:
    """Where non-default workspaces of the environment's stacks keep their state.

    The backend's default, ``env:``, lies outside every environment's prefix, and the
    backend lists it on every state access: a role limited to its prefix could not
    even read its default workspace. Inside the prefix, the listing stays there.
    """
    return f"{environment_prefix(project, environment)}/workspaces"


def object_arn_pattern(partition: str, bucket: str, prefix: str) -> str:
    """Every object under ``prefix`` (state, lock file, other workspaces)."""
    return f"arn:{partition}:s3:::{bucket}/{prefix}/*"


def lock_id_pattern(bucket: str, prefix: str) -> str:
    """Every DynamoDB ``LockID`` of states under ``prefix``: lock items and their ``-md5`` digests."""
    return f"{bucket}/{prefix}/*"


def kms_alias(project: str) -> str:
    """Alias of the key that encrypts every state object and the lock table."""
    return f"alias/{project}/terraform-state"

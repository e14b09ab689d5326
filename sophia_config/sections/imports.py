"""``imports:``: existing cloud resources this environment adopts instead of re-creating.

The seed imports existing resources (``aws.iam.Role.get(...)``); in Terraform
that is an ``import`` block, which cdktf writes for ``resource.import_from(id)``.
Each entry names the resource by the construct path the app already builds (the
resource's configuration stays in code; the entry only says "this one exists
already, with this id"), so the next ``deploy`` adopts it and ``review`` reports
it as an import, not an addition. Once deployed, an entry can stay (a no-op) or
be removed.

Example::

    imports:
      - stack: storage          # function stack, without the environment suffix
        path: artifacts/bucket  # construct path under the stack
        id: sophia-artifacts-dev-legacy
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sophia_config.types import Model


class ExistingResource(Model):
    """One resource to adopt with a Terraform ``import`` block."""

    stack: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    """Function of the stack that builds it (``data``, ``ai-ml``...); the environment is implied."""
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")]
    """Construct path under the stack, ``/``-separated (``models/bucket``), as in the
    ``//.metadata.path`` of ``cdk.tf.json`` without the leading stack name."""
    id: Annotated[str, Field(min_length=1, max_length=2048)]
    """The resource's import id as its Terraform resource documents it (bucket name, role name, ARN...)."""

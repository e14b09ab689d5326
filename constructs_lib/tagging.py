"""Tags, applied in one place.

* Project-wide tags (Project, Environment, ManagedBy, Owner, CostCenter) go on the
  AWS provider's ``default_tags``, so every taggable resource of a stack gets them
  and no construct repeats them.
* Per-construct tags (Component, ResourceType) are added by :class:`ComponentTags`,
  an Aspect that visits every resource after the tree is built. A construct
  declares its component once with :func:`set_component`; ResourceType is the
  Terraform type without its provider prefix (``aws_s3_bucket`` -> ``s3_bucket``).

No creation timestamp: the seed's ``CreatedAt: new Date()`` would make every
synth differ and every plan show a change. Creation time is recorded by AWS
CloudTrail and AWS Config (see docs/infrastructure-best-practices.md).
"""

from __future__ import annotations

import jsii
from cdktf import (
    Aspects,
    IAspect,
    TerraformDataSource,
    TerraformResource,
    TerraformStack,
)
from constructs import Construct, IConstruct

MANAGED_BY = "cdktf"

# Construct path -> component. Keyed by path (a string jsii gives back unchanged)
# rather than by object, because an Aspect may receive a new proxy object for a
# construct it did not create.
_components: dict[str, str] = {}


def default_tags(*, project: str, environment: str, owner: str, cost_center: str) -> dict[str, str]:
    """The tags every resource of an environment carries (through ``default_tags``)."""
    return {
        "Project": project,
        "Environment": environment,
        "ManagedBy": MANAGED_BY,
        "Owner": owner,
        "CostCenter": cost_center,
    }


def set_component(scope: Construct, component: str) -> None:
    """Tag every resource under ``scope`` with ``Component=component``."""
    _components[scope.node.path] = component


def component_of(node: IConstruct) -> str | None:
    """The component declared by the nearest enclosing construct, if any."""
    path = node.node.path
    while path:
        if path in _components:
            return _components[path]
        path = path.rpartition("/")[0]
    return None


def resource_type_of(resource: TerraformResource) -> str:
    return resource.terraform_resource_type.partition("_")[2] or resource.terraform_resource_type


def is_taggable(node: IConstruct) -> bool:
    """Whether ``node`` is a resource whose provider schema has a ``tags`` map."""
    return (
        isinstance(node, TerraformResource)
        and not isinstance(node, TerraformDataSource)
        and hasattr(type(node), "tags_input")
    )


@jsii.implements(IAspect)
class ComponentTags:
    """Adds ``Component`` and ``ResourceType`` tags to every taggable resource."""

    def __init__(self, default_component: str):
        self.default_component = default_component

    def visit(self, node: IConstruct) -> None:
        if not is_taggable(node):
            return
        resource: TerraformResource = node  # type: ignore[assignment]
        resource.add_override("tags.Component", component_of(node) or self.default_component)
        resource.add_override("tags.ResourceType", resource_type_of(resource))


def apply(stack: TerraformStack, default_component: str) -> None:
    """Install the tagging Aspect on ``stack``."""
    Aspects.of(stack).add(ComponentTags(default_component))

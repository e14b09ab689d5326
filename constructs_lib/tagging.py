"""Tags, applied in one place.

* Project-wide tags (Project, Environment, ManagedBy, Owner, CostCenter) go on the
  AWS provider's ``default_tags``, so every taggable resource of a stack gets them
  and no construct repeats them.
* Per-construct tags (Component, ResourceType) go on every taggable resource of a
  stack on which :func:`apply` was called. A construct declares its component once
  with :func:`set_component` (the nearest declaring scope wins; the stack's default
  otherwise); ResourceType is the Terraform type without its provider prefix
  (``aws_s3_bucket`` -> ``s3_bucket``).

The tags are added in one pass per stack when cdktf synthesizes it, after every
construct exists (a construct may declare its component after building its
resources, and a resource may be added to a scope later). Node calls into Python
once per stack for it (``stack_state``), not once per construct as an Aspect on
the stack would (with the guards' Aspect, 0.7 s of this app's 4 s synthesis); the
pass lists the stack's constructs in one call and adds one override per resource. The output is
the same as a per-resource Aspect's: ``tags.Component`` and ``tags.ResourceType``
merged over the resource's own tags, recorded as a ``tags`` override.

The declarations are kept by the stack (``constructs_lib/stack_state.py``), not by
this module: two apps built in one process do not share them.

No creation timestamp: the seed's ``CreatedAt: new Date()`` would make every
synth differ and every plan show a change. Creation time is recorded by AWS
CloudTrail and AWS Config (see docs/infrastructure-best-practices.md).
"""

from __future__ import annotations

import functools
from types import ModuleType

from cdktf import TerraformDataSource, TerraformResource, TerraformStack
from constructs import Construct, IConstruct

from constructs_lib import stack_state

MANAGED_BY = "cdktf"


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
    stack_state.of(scope).part(ComponentTags).declare(scope, component)


def apply(stack: TerraformStack, default_component: str) -> None:
    """Tag the taggable resources of ``stack`` (``default_component`` where no scope declared one)."""
    state = stack_state.of(stack)
    tags = state.part(ComponentTags)
    tags.default_component = default_component
    state.before_synthesis(tags.tag_resources)


def is_taggable(node: IConstruct) -> bool:
    """Whether ``node`` is a resource whose provider schema has a ``tags`` map."""
    return (
        isinstance(node, TerraformResource)
        and not isinstance(node, TerraformDataSource)
        and hasattr(type(node), "tags_input")
    )


# Terraform type prefix -> the namespace of constructs_lib.providers that builds it.
_PROVIDER_PREFIXES = {"aws_": "aws", "kubernetes_": "k8s"}


@functools.cache
def is_taggable_type(terraform_type: str) -> bool:
    """Whether resources of ``terraform_type`` (``aws_s3_bucket``) have a ``tags`` map, for
    judging synthesized JSON. A type of another provider counts as not taggable.

    The provider bindings name each resource's module after its type without the
    provider prefix (``aws_s3_bucket`` -> ``cdktf_cdktf_provider_aws.s3_bucket``)."""
    from constructs_lib import providers

    for prefix, namespace in _PROVIDER_PREFIXES.items():
        if terraform_type.startswith(prefix):
            try:
                module = getattr(getattr(providers, namespace), terraform_type.removeprefix(prefix))
            except AttributeError:
                return False
            return any(hasattr(cls, "tags_input") for cls in _resource_classes(module))
    return False


def _resource_classes(module: ModuleType) -> list[type]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and value.__module__ == module.__name__
        and issubclass(value, TerraformResource)
        and not issubclass(value, TerraformDataSource)
    ]


@functools.cache
def _resource_type(cls: type) -> str:
    """``s3_bucket`` for the class of ``aws_s3_bucket`` (a constant of the generated class)."""
    terraform_type: str = cls.TF_RESOURCE_TYPE  # type: ignore[attr-defined]
    return terraform_type.partition("_")[2] or terraform_type


def _key(node: IConstruct) -> str:
    # The jsii reference names the Node object: the same for every Python proxy of it.
    return node.__jsii_ref__.ref  # type: ignore[attr-defined]


class ComponentTags:
    """A stack's tagging: its default component and the components its constructs declared."""

    def __init__(self, stack: TerraformStack):
        self.stack = stack
        self.default_component: str | None = None
        """Set by :func:`apply`; None: the stack's resources are not tagged."""
        self._declared: list[tuple[int, IConstruct, str]] = []  # (depth, scope, component)

    def declare(self, scope: IConstruct, component: str) -> None:
        self._declared.append((scope.node.path.count("/"), scope, component))

    def tag_resources(self) -> None:
        if self.default_component is None:
            return
        components: dict[str, str] = {}
        # Outer scopes first, so the nearest declaring scope wins (sorted() is stable:
        # a scope declared twice keeps its last component).
        for _, scope, component in sorted(self._declared, key=lambda declared: declared[0]):
            for node in scope.node.find_all():
                components[_key(node)] = component
        for node in self.stack.node.find_all():
            if is_taggable(node):
                tags = {"Component": components.get(_key(node), self.default_component), "ResourceType": _resource_type(type(node))}
                node.add_override("tags", tags)


"""Which provider bindings the library uses: Python package -> jsii assembly.

A module of its own so that ``providers`` (which loads the bindings) and
``_lazy_assembly`` (which prepares their Node side) both read it and neither
imports the other's caller. Moving to the maintained fork (CDK Terrain:
``cdktn_provider_aws``) changes the names here and the two ``TYPE_CHECKING``
imports in ``providers``.
"""

AWS_PACKAGE = "cdktf_cdktf_provider_aws"
K8S_PACKAGE = "cdktf_cdktf_provider_kubernetes"
ASSEMBLIES = {
    AWS_PACKAGE: "@cdktf/provider-aws",
    K8S_PACKAGE: "@cdktf/provider-kubernetes",
}

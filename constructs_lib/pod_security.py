"""The Kubernetes "restricted" Pod Security Standard, as the security contexts of a
``kubernetes_deployment_v1``: what every Deployment of this library runs with.

Non-root with a fixed UID and GID, no privilege escalation, every capability dropped,
the RuntimeDefault seccomp profile, and a read-only root filesystem (a writable path is
an ``emptyDir`` the workload mounts). The namespaces the library creates enforce the same
profile (``pod-security.kubernetes.io/enforce: restricted``); ``kube-system`` does not,
so these contexts are what holds it there.
https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"""

from __future__ import annotations

from constructs_lib import providers


def restricted_container(uid: int):
    """A container's ``security_context``, running as ``uid`` (and group ``uid``)."""
    d = providers.k8s.deployment_v1
    return d.DeploymentV1SpecTemplateSpecContainerSecurityContext(
        run_as_non_root=True,
        run_as_user=str(uid),
        run_as_group=str(uid),
        privileged=False,
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities=d.DeploymentV1SpecTemplateSpecContainerSecurityContextCapabilities(drop=["ALL"]),
        seccomp_profile=d.DeploymentV1SpecTemplateSpecContainerSecurityContextSeccompProfile(type="RuntimeDefault"),
    )


def restricted_pod(uid: int):
    """A pod's ``security_context``, running as ``uid``; ``fs_group`` ``uid`` makes mounted
    volumes, the projected IRSA web-identity token included, readable by that user."""
    d = providers.k8s.deployment_v1
    return d.DeploymentV1SpecTemplateSpecSecurityContext(
        run_as_non_root=True,
        run_as_user=str(uid),
        run_as_group=str(uid),
        fs_group=str(uid),
        seccomp_profile=d.DeploymentV1SpecTemplateSpecSecurityContextSeccompProfile(type="RuntimeDefault"),
    )

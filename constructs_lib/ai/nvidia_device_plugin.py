"""``NvidiaDevicePlugin``: the DaemonSet that makes GPUs schedulable on AL2023 GPU nodes.

The EKS-optimized ``AL2023_x86_64_NVIDIA`` AMI ships the driver and container
toolkit but not the Kubernetes device plugin; without it no node advertises
``nvidia.com/gpu`` and every GPU pod stays Pending
(https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-optimized-ami.html).
Bottlerocket NVIDIA variants run the plugin themselves: deploy this only on AL2023.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from constructs import Construct

from constructs_lib.ai.gpu_node_group import GPU_LABELS, GPU_TAINT
from constructs_lib.errors import ValidationError
from constructs_lib.providers import k8s

# Pinned like an add-on version: bump deliberately, after reading the release notes.
DEFAULT_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.1"
_PINNED = re.compile(r"^[a-z0-9.-]+(/[a-z0-9._-]+)+(:v?\d+\.\d+\.\d+|@sha256:[0-9a-f]{64})$")


@dataclass(frozen=True)
class NvidiaDevicePluginProps:
    image: str = DEFAULT_IMAGE
    """Device plugin image, pinned to a release tag or digest. Default: ``v0.17.1`` from nvcr.io."""
    namespace: str = "kube-system"
    """Namespace of the DaemonSet. Default: ``kube-system`` (it must run before any workload)."""


class NvidiaDevicePlugin(Construct):
    """One device-plugin pod per GPU node (selected by the GPU label, tolerating the GPU taint).

    Outputs: ``daemon_set_name``, ``namespace``.
    """

    def __init__(self, scope: Construct, id_: str, props: NvidiaDevicePluginProps = NvidiaDevicePluginProps()):
        super().__init__(scope, id_)
        if not _PINNED.fullmatch(props.image):
            raise ValidationError(
                f"NvidiaDevicePlugin {id_}: image must be pinned to a release tag (vX.Y.Z) or digest, got {props.image!r}"
            )
        d = k8s.daemon_set_v1
        name = "nvidia-device-plugin"
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "terraform"}
        label_key = "nvidia.com/gpu"
        self.daemon_set = d.DaemonSetV1(
            self,
            "daemon-set",
            metadata=d.DaemonSetV1Metadata(name=name, namespace=props.namespace, labels=labels),
            spec=d.DaemonSetV1Spec(
                selector=d.DaemonSetV1SpecSelector(match_labels={"app.kubernetes.io/name": name}),
                strategy=d.DaemonSetV1SpecStrategy(type="RollingUpdate"),
                template=d.DaemonSetV1SpecTemplate(
                    metadata=d.DaemonSetV1SpecTemplateMetadata(labels=labels),
                    spec=d.DaemonSetV1SpecTemplateSpec(
                        # Evicting it would make the node's GPUs disappear from the scheduler.
                        priority_class_name="system-node-critical",
                        automount_service_account_token=False,
                        node_selector={label_key: GPU_LABELS[label_key]},
                        toleration=[d.DaemonSetV1SpecTemplateSpecToleration(key=GPU_TAINT.key, operator="Exists", effect=GPU_TAINT.effect)],
                        container=[
                            d.DaemonSetV1SpecTemplateSpecContainer(
                                name="nvidia-device-plugin",
                                image=props.image,
                                # A node whose driver is not ready yet keeps running the plugin
                                # (advertising no GPUs) instead of crash-looping.
                                env=[d.DaemonSetV1SpecTemplateSpecContainerEnv(name="FAIL_ON_INIT_ERROR", value="false")],
                                resources=d.DaemonSetV1SpecTemplateSpecContainerResources(
                                    requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "128Mi"}
                                ),
                                security_context=d.DaemonSetV1SpecTemplateSpecContainerSecurityContext(
                                    allow_privilege_escalation=False,
                                    read_only_root_filesystem=True,
                                    capabilities=d.DaemonSetV1SpecTemplateSpecContainerSecurityContextCapabilities(drop=["ALL"]),
                                    seccomp_profile=d.DaemonSetV1SpecTemplateSpecContainerSecurityContextSeccompProfile(type="RuntimeDefault"),
                                ),
                                # The kubelet's device-plugin socket directory: the one host path it needs.
                                volume_mount=[
                                    d.DaemonSetV1SpecTemplateSpecContainerVolumeMount(
                                        name="device-plugin", mount_path="/var/lib/kubelet/device-plugins"
                                    )
                                ],
                            )
                        ],
                        volume=[
                            d.DaemonSetV1SpecTemplateSpecVolume(
                                name="device-plugin",
                                host_path=d.DaemonSetV1SpecTemplateSpecVolumeHostPath(
                                    path="/var/lib/kubelet/device-plugins", type="Directory"
                                ),
                            )
                        ],
                    ),
                ),
            ),
            # GPU nodes come and go with the autoscaler (and spot): an apply must not wait on them.
            wait_for_rollout=False,
        )
        self.daemon_set_name: str = name
        self.namespace: str = props.namespace

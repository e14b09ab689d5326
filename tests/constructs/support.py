"""Helpers shared by construct tests that synthesize a construct in a one-stack app."""

from __future__ import annotations

import json

from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting


def synth(build) -> dict:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    build(stack)
    return json.loads(CdktfTesting.synth(stack))


def documents(out: dict) -> dict[str, dict]:
    return out["data"]["aws_iam_policy_document"]


def statement(doc: dict, sid: str) -> dict:
    return next(s for s in doc["statement"] if s.get("sid") == sid)


def eks_cluster(scope, id_: str = "eks"):
    """A minimal valid ``EksCluster`` (the three required add-ons), for constructs that join one."""
    from constructs_lib.compute.eks_cluster import Addon, EksCluster
    from constructs_lib.compute.eks_cluster_props import EksClusterProps

    return EksCluster(
        scope,
        id_,
        EksClusterProps(
            cluster_name="sophia-compute-eks-dev",
            kubernetes_version="1.33",
            vpc_id="vpc-0123",
            subnet_ids=["subnet-a", "subnet-b"],
            role_name="sophia-compute-eks-cluster-role-dev",
            secrets_kms_key_arn="arn:aws:kms:us-west-2:111111111111:key/eks",
            log_kms_key_arn="arn:aws:kms:us-west-2:111111111111:key/logs",
            log_retention_days=30,
            node_security_group_name="sophia-compute-node-sg-dev",
            addons=(
                Addon("vpc-cni", "v1.20.1-eksbuild.3", before_compute=True),
                Addon("kube-proxy", "v1.33.3-eksbuild.6", before_compute=True),
                Addon("coredns", "v1.12.4-eksbuild.1"),
            ),
        ),
    )

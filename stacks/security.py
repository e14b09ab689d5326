"""``security-<env>``: KMS keys per purpose (and the IAM building blocks other stacks use).

The data-tier security groups live with the data stack: they admit the EKS node
security group of the compute stack, which is downstream of this one.
"""

from __future__ import annotations

from constructs import Construct

from constructs_lib import tagging
from constructs_lib.security.kms_keys import DEFAULT_PURPOSES, KmsKeySet, KmsKeySetProps
from stacks.base import EnvironmentStack, StackContext


class SecurityStack(EnvironmentStack):
    """Exposes ``key_set`` (:class:`KmsKeySet`, ``.keys`` by purpose) and :meth:`kms_key_arn`."""

    function = "security"

    def __init__(self, scope: Construct, ctx: StackContext):
        super().__init__(scope, ctx)
        self.key_set = KmsKeySet(
            self,
            "kms",
            KmsKeySetProps(naming=self.naming, region=ctx.config.aws.region, purposes=DEFAULT_PURPOSES),
        )
        tagging.set_component(self.key_set, "security")
        for purpose, key in self.key_set.keys.items():
            self.output(f"kms_{purpose}_key_arn", key.key_arn, f"ARN of the KMS key for {purpose}")

    def kms_key_arn(self, purpose: str) -> str:
        """ARN of the environment's KMS key for ``purpose`` (logs, data, secrets, eks, alerts)."""
        return self.key_set.key_arn(purpose)

"""IrsaRole: a role exactly one service account of one cluster can assume, and nothing else."""

from __future__ import annotations

import pytest

from constructs_lib.compute.irsa_role import IrsaRole, IrsaRoleProps
from constructs_lib.errors import ValidationError
from constructs_lib.naming import NamingError
from tests.constructs.support import documents, synth

PROVIDER = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"
PROPS = IrsaRoleProps(
    role_name="sophia-ai-bert-base-model-dev",
    oidc_provider_arn=PROVIDER,
    oidc_provider_url="https://oidc.eks.us-west-2.amazonaws.com/id/ABC",
    namespace="model-bert-base",
    service_account="model-bert-base",
)


def build(props: IrsaRoleProps = PROPS) -> dict:
    return synth(lambda stack: IrsaRole(stack, "irsa", props))


@pytest.fixture(scope="module")
def out() -> dict:
    return build()


def test_trust_names_one_service_account_and_the_sts_audience_exactly(out):
    ((_, trust),) = documents(out).items()
    (statement,) = trust["statement"]
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["principals"] == [{"type": "Federated", "identifiers": [PROVIDER]}]
    conditions = {c["variable"].rsplit(":", 1)[1]: c for c in statement["condition"]}
    assert set(conditions) == {"sub", "aud"}
    # StringEquals, not StringLike: no pattern can widen the subject to other accounts.
    assert {c["test"] for c in conditions.values()} == {"StringEquals"}
    assert conditions["sub"]["values"] == ["system:serviceaccount:model-bert-base:model-bert-base"]
    assert conditions["aud"]["values"] == ["sts.amazonaws.com"]
    # The issuer without its scheme, as IAM names OIDC condition keys.
    assert conditions["sub"]["variable"].startswith("${replace(") and "https://" in conditions["sub"]["variable"]


def test_no_permissions_unless_given(out):
    resources = out["resource"]
    assert "aws_iam_role_policy" not in resources and "aws_iam_role_policy_attachment" not in resources
    policy = "arn:aws:iam::111111111111:policy/read-models"
    attached = build(IrsaRoleProps(**{**PROPS.__dict__, "managed_policy_arns": (policy,)}))
    (attachment,) = attached["resource"]["aws_iam_role_policy_attachment"].values()
    assert attachment["policy_arn"] == policy


@pytest.mark.parametrize(
    "field, value",
    [("namespace", "Model_Bert"), ("service_account", "*"), ("namespace", ""), ("service_account", "model-")],
)
def test_a_service_account_that_is_not_a_kubernetes_name_is_refused_with_the_value(field, value):
    # "*" in particular: a wildcard subject would let any service account assume the role.
    with pytest.raises(ValidationError, match=f"IrsaRole irsa: {field} must be a Kubernetes object name, got {value!r}"):
        build(IrsaRoleProps(**{**PROPS.__dict__, field: value}))


def test_role_name_is_checked_against_iam():
    with pytest.raises(NamingError, match="IAM_ROLE"):
        build(IrsaRoleProps(**{**PROPS.__dict__, "role_name": "x" * 65}))


@pytest.mark.parametrize(
    "arn",
    ["arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/AmazonS3FullAccess"],
)
def test_a_broad_managed_policy_is_refused_as_iam_role_refuses_it(arn):
    # The same rule and message as IamRole (security.iam_role.refuse_broad_managed_policies),
    # with the role's id and the ARN in it.
    with pytest.raises(ValidationError) as info:
        build(IrsaRoleProps(**{**PROPS.__dict__, "managed_policy_arns": ("arn:aws:iam::111111111111:policy/read", arn)}))
    assert str(info.value) == (
        "IrsaRole irsa: managed_policy_arns must not grant administrator access or hold another broad managed policy "
        f"(AdministratorAccess, PowerUserAccess, *FullAccess), got {arn!r}"
    )

from __future__ import annotations

import pytest

from constructs_lib.naming import Naming, NamingError, ResourceKind, check, slug


def test_name_follows_the_scheme():
    naming = Naming("sophia", "dev")
    assert naming.name("ai", "models", kind=ResourceKind.S3_BUCKET) == "sophia-ai-models-dev"
    assert naming.name("data", "db", "blue", kind=ResourceKind.RDS_INSTANCE) == "sophia-data-db-dev-blue"


def test_name_over_the_aws_limit_is_an_error_with_length_and_limit():
    naming = Naming("sophia", "production")
    with pytest.raises(NamingError, match=r"OPENSEARCH_DOMAIN name 'sophia-vector-search-production' is 31 characters, over the AWS limit of 28"):
        naming.name("vector", "search", kind=ResourceKind.OPENSEARCH_DOMAIN)
    assert naming.name("ai", "vecdb", kind=ResourceKind.OPENSEARCH_DOMAIN) == "sophia-ai-vecdb-production"


@pytest.mark.parametrize("kind, limit", [(ResourceKind.S3_BUCKET, 63), (ResourceKind.IAM_ROLE, 64), (ResourceKind.OPENSEARCH_DOMAIN, 28)])
def test_limits(kind, limit):
    assert check("a" * limit, kind)
    with pytest.raises(NamingError, match=f"over the AWS limit of {limit}"):
        check("a" * (limit + 1), kind)


def test_invalid_characters():
    with pytest.raises(NamingError, match="S3_BUCKET name 'Sophia_Bucket' is invalid"):
        check("Sophia_Bucket", ResourceKind.S3_BUCKET)
    with pytest.raises(NamingError, match="part 'Models'"):
        Naming("sophia", "dev").name("ai", "Models")


def test_environment_part_is_checked():
    with pytest.raises(NamingError, match="environment 'Dev'"):
        Naming("sophia", "Dev")


def test_kms_alias():
    assert Naming("sophia", "dev").alias("security", "logs") == "alias/sophia/dev/security-logs"


@pytest.mark.parametrize(
    "text, expected",
    [("nvidia.com/gpu", "nvidia-com-gpu"), ("/aws/containerinsights/x/application", "aws-containerinsights-x-application"), ("Workload_Type", "workload-type")],
)
def test_slug_keeps_lowercase_letters_digits_and_single_dashes(text, expected):
    assert slug(text) == expected

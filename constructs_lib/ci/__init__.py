"""CI: how GitHub Actions reaches the accounts (OIDC provider, roles) and the private cluster (in-VPC runners)."""

"""Rules checked once every file is parsed: across the environment files (address spaces,
one AWS Config recorder and one GitHub OIDC provider per account, a state role per
environment in the state account), and across sections of one file.

Each returns its problems as ``<file>: <field.path>: <message> (value ...)`` lines;
:func:`sophia_config.loader.load` reports them all together.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from sophia_config.model import Environment, ProjectConfig


def check_vpc_overlaps(environments: list[Environment]) -> list[str]:
    # Environments may be peered or routed through a transit gateway later: keep
    # their address spaces apart from the start.
    problems = []
    for i, first in enumerate(environments):
        for second in environments[i + 1 :]:
            a = ipaddress.ip_network(first.config.network.vpc_cidr)
            b = ipaddress.ip_network(second.config.network.vpc_cidr)
            if a.overlaps(b):
                problems.append(
                    f"{second.source}: network.vpc_cidr: {str(b)!r} overlaps {str(a)!r} "
                    f"of environment {first.name!r} ({first.source})"
                )
    return problems


def check_config_recorders(environments: list[Environment]) -> list[str]:
    # AWS allows one configuration recorder and delivery channel per account and
    # region; a second `terraform apply` would fail (or silently take the first over).
    # Global resources (IAM) are the same in every region: record them in one only.
    problems = []
    for i, first in enumerate(environments):
        a, a_drift = first.config.aws, first.config.drift
        for second in environments[i + 1 :]:
            b, b_drift = second.config.aws, second.config.drift
            if a.account_id != b.account_id:
                continue
            if a.region == b.region and a_drift.record_config and b_drift.record_config:
                problems.append(
                    f"{second.source}: drift.record_config: true, but {first.source} already owns the AWS Config "
                    f"recorder of account {a.account_id} in {a.region} (one per account and region): set one to false"
                )
            elif a_drift.include_global_resources and b_drift.include_global_resources:
                problems.append(
                    f"{second.source}: drift.include_global_resources: true, but {first.source} already records "
                    f"global resources of account {a.account_id} (in {a.region}): set one to false"
                )
    return problems


def check_state_access(project: ProjectConfig, project_path: Path, environments: list[Environment]) -> list[str]:
    # Each environment reaches the state account through a role of its own, limited to
    # its own prefix: a role shared by two environments would reach both.
    problems = []
    state_account = project.state.account_id
    owners: dict[str, Environment] = {}
    for env in environments:
        role, account = env.config.state.role_arn, env.config.aws.account_id
        if role is None:
            why = (
                f"account {account} differs from the state account {state_account} ({project_path} state.account_id)"
                if account != state_account
                else "the state resources grant each environment's own role, limited to its prefix, and no other principal"
            )
            problems.append(f"{env.source}: state.role_arn: required: {why} (value None)")
            continue
        if role.split(":")[4] != state_account:
            problems.append(
                f"{env.source}: state.role_arn: must be a role of the state account {state_account} "
                f"({project_path} state.account_id) (value {role!r})"
            )
        if role in owners:
            problems.append(
                f"{env.source}: state.role_arn: already the state role of environment {owners[role].name!r} "
                f"({owners[role].source}); each environment needs its own (value {role!r})"
            )
        owners.setdefault(role, env)
    return problems


def check_github_oidc_providers(environments: list[Environment]) -> list[str]:
    # IAM holds one OIDC provider per account and URL: exactly one environment of each
    # account creates it, the others refer to it.
    problems = []
    accounts: dict[str, list[Environment]] = {}
    for env in environments:
        accounts.setdefault(env.config.aws.account_id, []).append(env)
    for account, envs in accounts.items():
        creators = [e for e in envs if e.config.baseline.github_oidc_provider]
        for extra in creators[1:]:
            problems.append(
                f"{extra.source}: baseline.github_oidc_provider: true, but {creators[0].source} already creates the "
                f"GitHub OIDC provider of account {account} (one per account): set one to false (value True)"
            )
        if not creators:
            problems.append(
                f"{envs[0].source}: baseline.github_oidc_provider: no environment of account {account} creates the "
                "GitHub OIDC provider: set it to true in one of them (value False)"
            )
    return problems


def check_force_destroy(environments: list[Environment]) -> list[str]:
    return [
        f"{env.source}: storage.force_destroy_buckets: must be false where resilience.deletion_protection is true "
        f"(value True)"
        for env in environments
        if env.config.storage.force_destroy_buckets and env.config.resilience.deletion_protection
    ]

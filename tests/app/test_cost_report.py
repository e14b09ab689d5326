"""docs/cost-optimization-report.md, "What the database costs in each state": every figure
follows from the synthesized data stacks and the report's own price table."""

from __future__ import annotations

import re

import pytest

import sophia_config as config
from tests.conftest import ROOT

REPORT = ROOT / "docs" / "cost-optimization-report.md"
HOURS_PER_MONTH = 730
APP = config.load(ROOT / "config")


def table(header_start: str) -> list[list[str]]:
    """The rows of the Markdown table whose header row starts with ``header_start``."""
    lines = REPORT.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header_start}"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def prices() -> dict[str, float]:
    found = {}
    for label, value in table("price (Single-AZ)"):
        if match := re.fullmatch(r"(db\.[a-z0-9.]+), per hour", label):
            found[match.group(1)] = float(value)
        elif label == "gp3 storage, per GB-month":
            found["gp3"] = float(value)
    return found


def instances(stack: dict) -> list[dict]:
    return list(stack.get("resource", {}).get("aws_db_instance", {}).values())


@pytest.mark.parametrize("environment", [env.name for env in APP.environments])
def test_each_states_cost_follows_from_the_synthesized_database(stack_json, environment):
    rows = {row[0]: row for row in table("environment | class")}
    env_class, multi_az, storage, one, outside, during, per_day = rows[environment][1:]
    synthesized = instances(stack_json(f"data-{environment}"))
    active = synthesized[0]
    assert env_class == active["instance_class"]
    assert multi_az == ("yes" if active["multi_az"] else "no")
    assert int(storage) == active["allocated_storage"]

    price = prices()
    copies = 2 if active["multi_az"] else 1
    monthly = copies * (price[active["instance_class"]] * HOURS_PER_MONTH + price["gp3"] * active["allocated_storage"])
    assert float(one) == round(monthly, 2)
    # Outside a switch: as many instances as the synthesized stack has (the standby is absent).
    assert float(outside) == round(len(synthesized) * monthly, 2)
    assert float(during) == round(2 * monthly, 2)
    assert float(per_day) == round(monthly * 24 / HOURS_PER_MONTH, 2)


def test_the_committed_configuration_is_outside_a_switch(stack_json):
    for env in APP.environments:
        assert len(instances(stack_json(f"data-{env.name}"))) == 1, env.name


def test_the_stated_saving_is_the_sum_of_the_standbys():
    rows = table("environment | class")
    saving = sum(float(row[6]) - float(row[5]) for row in rows)
    text = REPORT.read_text(encoding="utf-8")
    assert f"saves {saving:,.2f} USD a month" in text
    assert f"{12 * saving:,.2f} USD a year" in text

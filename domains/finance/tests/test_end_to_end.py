"""Finance end to end: two days of ERP sample data landed, ingested and turned into gold; gold
is checked against what the landed records say it should be."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest

from lakehouse.testing import DomainBatches, LocalLakehouse, assert_table_equals, scd2_versions

ACCOUNT_CLASSES = {"1": "asset", "2": "liability", "3": "equity", "4": "revenue"}


@pytest.fixture(scope="module")
def finance(tmp_path_factory, spark, domain) -> DomainBatches:
    return LocalLakehouse(tmp_path_factory.mktemp("finance"), spark).run_batches(domain, [0, 1])


def test_bronze_and_silver_follow_each_contract(finance):
    assert finance.table_problems() == []


def test_every_landed_record_reaches_silver_or_is_quarantined_or_dropped(finance):
    assert finance.conservation_problems() == []
    assert finance.quarantine_problems() == []


def test_trial_balance_adds_up_every_line_that_reached_silver(finance, spark):
    totals: dict[str, list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for line in finance.silver_records("gl_journal_lines"):
        total = totals[line["account"]]
        total[0] += line["debit"]
        total[1] += line["credit"]
        total[2] += 1
    expected = spark.createDataFrame(
        [
            (
                account,
                ACCOUNT_CLASSES.get(account[0], "expense"),
                debit,
                credit,
                lines,
                debit - credit,
            )
            for account, (debit, credit, lines) in totals.items()
        ],
        "account STRING, account_class STRING, debit DECIMAL(24,2), credit DECIMAL(24,2), "
        "lines BIGINT, balance DECIMAL(25,2)",
    )
    actual = finance.lakehouse.table("dev_gold.finance.trial_balance")
    assert_table_equals(actual, expected)


def test_monthly_spend_names_each_cost_centre_as_it_was_when_the_spend_was_posted(finance, spark):
    versions = scd2_versions(
        finance.silver_records("cost_centres"),
        finance.contract("cost_centres"),
        ["name", "department", "owner_email"],
    )
    spend: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0])
    for line in finance.silver_records("gl_journal_lines"):
        if line["account"][0] not in "567":
            continue
        as_of = datetime.combine(line["posted_on"] + timedelta(days=1), time())
        in_force = [
            v.record
            for v in versions.get(line["cost_centre_id"], [])
            if v.start < as_of and (v.end is None or v.end >= as_of)
        ]
        name, department = (
            (in_force[0]["name"], in_force[0]["department"]) if in_force else (None, None)
        )
        total = spend[(line["posted_on"].replace(day=1), line["cost_centre_id"], name, department)]
        total[0] += line["debit"] - line["credit"]
        total[1] += 1
    expected = spark.createDataFrame(
        [(*key, amount, lines) for key, (amount, lines) in spend.items()],
        "month DATE, cost_centre_id STRING, cost_centre_name STRING, department STRING, "
        "spend DECIMAL(25,2), lines BIGINT",
    )
    actual = finance.lakehouse.table("dev_gold.finance.monthly_spend_by_cost_centre")
    assert_table_equals(actual, expected)

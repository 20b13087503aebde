"""Sales end to end: two days of CRM sample data landed, ingested and turned into gold; gold
is checked against what the landed records say it should be."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from lakehouse.testing import (
    DomainBatches,
    LocalLakehouse,
    assert_table_equals,
    current_versions,
    scd2_versions,
)


@pytest.fixture(scope="module")
def sales(tmp_path_factory, spark, domain) -> DomainBatches:
    return LocalLakehouse(tmp_path_factory.mktemp("sales"), spark).run_batches(domain, [0, 1])


def test_bronze_and_silver_follow_each_contract(sales):
    assert sales.table_problems() == []


def test_every_landed_record_reaches_silver_or_is_quarantined_or_dropped(sales):
    assert sales.conservation_problems() == []
    assert sales.quarantine_problems() == []


def test_daily_revenue_adds_up_every_order_that_reached_silver(sales, spark):
    totals: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0])
    for order in sales.silver_records("orders"):
        total = totals[(order["ordered_at"].date(), order["currency"])]
        total[0] += order["amount"]
        total[1] += 1
    expected = spark.createDataFrame(
        [(*key, revenue, orders) for key, (revenue, orders) in totals.items()],
        "order_date DATE, currency STRING, revenue DECIMAL(22,2), orders BIGINT",
    )
    actual = sales.lakehouse.table("dev_gold.sales.daily_revenue")
    assert_table_equals(actual, expected)


def test_customer_360_has_each_current_customer_with_their_orders(sales, spark):
    contract = sales.contract("customers")
    tracked = ["name", "email", "country", "segment"]
    versions = scd2_versions(sales.silver_records("customers"), contract, tracked)
    orders = defaultdict(list)
    for order in sales.silver_records("orders"):
        orders[order["customer_id"]].append(order["ordered_at"])
    expected = spark.createDataFrame(
        [
            (
                key,
                *(version.record[c] for c in tracked),
                versions[key][0].start,
                len(orders[key]),
                min(orders[key], default=None),
                max(orders[key], default=None),
            )
            for key, version in current_versions(versions).items()
        ],
        "customer_id BIGINT, name STRING, email STRING, country STRING, segment STRING, "
        "customer_since TIMESTAMP, orders BIGINT, first_ordered_at TIMESTAMP, "
        "last_ordered_at TIMESTAMP",
    )
    actual = sales.lakehouse.table("dev_gold.sales.customer_360")
    assert_table_equals(actual, expected)


def test_each_day_is_taken_incrementally(sales):
    for run, landed in zip(sales.runs, sales.batches, strict=True):
        for dataset, records in landed.items():
            assert run.ingestion["crm"].rows_written(f"dev_bronze.crm.{dataset}") == len(records)

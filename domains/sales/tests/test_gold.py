"""Sales gold logic, on silver tables written by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from lakehouse.testing import assert_table_equals

ORDERS = "order_id STRING, customer_id BIGINT, ordered_at TIMESTAMP, amount DECIMAL(12,2), currency STRING"
CUSTOMERS = (
    "customer_id BIGINT, name STRING, email STRING, country STRING, segment STRING, "
    "changed_at TIMESTAMP, __START_AT TIMESTAMP, __END_AT TIMESTAMP"
)


def _t(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour)


def _seed(lakehouse) -> None:
    lakehouse.seed("dev_silver.crm.orders", [
        ("A", 1, _t(1, 9), Decimal("10.50"), "EUR"),
        ("B", 2, _t(1, 23), Decimal("4.50"), "EUR"),
        ("C", 1, _t(2, 8), Decimal("7.00"), "USD"),
        ("D", 9, _t(2, 9), Decimal("1.00"), "USD"),  # a customer the CRM deleted
    ], ORDERS)  # fmt: skip
    lakehouse.seed("dev_silver.crm.customers", [
        (1, "Ann", "ann@x.no", "NO", "consumer", _t(1), _t(1, 8), _t(2, 8)),
        (1, "Ann", "ann@x.no", "SE", "business", _t(2), _t(2, 8), None),  # moved
        (2, "Bo", "bo@x.no", "DK", "consumer", _t(1), _t(1, 7), None),
        (3, "Cy", "cy@x.no", "FI", "consumer", _t(2), _t(2, 10), None),  # no orders yet
        (9, "Di", "di@x.no", "DE", "consumer", _t(1), _t(1, 6), _t(2, 6)),  # deleted
    ], CUSTOMERS)  # fmt: skip


def test_daily_revenue_sums_orders_per_order_day_and_currency(lakehouse, domain, spark):
    _seed(lakehouse)
    lakehouse.run_pipelines(domain)
    expected = spark.createDataFrame(
        [
            (date(2026, 3, 1), "EUR", Decimal("15.00"), 2),
            (date(2026, 3, 2), "USD", Decimal("8.00"), 2),
        ],
        "order_date DATE, currency STRING, revenue DECIMAL(22,2), orders BIGINT",
    )
    actual = lakehouse.table("dev_gold.sales.daily_revenue")
    assert_table_equals(actual, expected)


def test_customer_360_shows_current_customers_since_their_first_version(lakehouse, domain, spark):
    _seed(lakehouse)
    lakehouse.run_pipelines(domain)
    expected = spark.createDataFrame(
        [
            (1, "Ann", "ann@x.no", "SE", "business", _t(1, 8), 2, _t(1, 9), _t(2, 8)),
            (2, "Bo", "bo@x.no", "DK", "consumer", _t(1, 7), 1, _t(1, 23), _t(1, 23)),
            (3, "Cy", "cy@x.no", "FI", "consumer", _t(2, 10), 0, None, None),
        ],
        "customer_id BIGINT, name STRING, email STRING, country STRING, segment STRING, "
        "customer_since TIMESTAMP, orders BIGINT, first_ordered_at TIMESTAMP, "
        "last_ordered_at TIMESTAMP",
    )
    actual = lakehouse.table("dev_gold.sales.customer_360")
    assert_table_equals(actual, expected)

"""The sales orders pipeline: bad orders are dropped or counted, revenue adds up per day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from chispa import assert_df_equality

from lakehouse.demo import land_sales_orders
from lakehouse.engine import run_pipeline, sql

PIPELINE = Path(__file__).resolve().parents[1] / "pipelines"


def _run(tmp_path: Path, spark) -> object:
    return run_pipeline(
        [PIPELINE],
        storage=tmp_path / "storage",
        name="sales_gold",
        catalog="dev_gold",
        schema="sales",
        configuration={"sales.landing_path": str(tmp_path / "landing")},
        spark=spark,
    )


def test_daily_revenue_sums_valid_orders_per_day_and_currency(tmp_path, spark):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "orders.json").write_text(
        '{"order_id": "A", "customer_id": "C1", "order_ts": "2026-03-01T10:00:00", "amount": 10.50, "currency": "EUR"}\n'
        '{"order_id": "B", "customer_id": "C2", "order_ts": "2026-03-01T23:59:00", "amount": 4.50, "currency": "EUR"}\n'
        '{"order_id": "C", "customer_id": "C2", "order_ts": "2026-03-02T08:00:00", "amount": 7.00, "currency": "USD"}\n'
        '{"order_id": "D", "customer_id": "C3", "order_ts": "2026-03-02T09:00:00", "amount": -3.00, "currency": "USD"}\n'
        '{"order_id": null, "customer_id": "C3", "order_ts": "2026-03-02T09:00:00", "amount": 99.00, "currency": "USD"}\n'
    )
    result = _run(tmp_path, spark)
    expected = spark.createDataFrame(
        [
            (date(2026, 3, 1), "EUR", Decimal("15.00"), 2),
            (date(2026, 3, 2), "USD", Decimal("7.00"), 1),
        ],
        "order_date DATE, currency STRING, revenue DECIMAL(22,2), orders BIGINT",
    )
    actual = sql(tmp_path / "storage", "SELECT * FROM dev_gold.sales.daily_revenue", spark=spark)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
    assert result.expectation("orders_bronze", "valid_order_id")["failed_records"] == 1
    assert result.expectation("orders_bronze", "positive_amount")["failed_records"] == 1


def test_generated_batches_are_deterministic_and_carry_bad_records(tmp_path):
    first = land_sales_orders(tmp_path / "a", batch=3).read_text()
    again = land_sales_orders(tmp_path / "b", batch=3).read_text()
    assert first == again
    assert '"order_id": null' in first and '"amount": -' in first

"""Finance gold logic, on silver tables written by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from lakehouse.testing import assert_table_equals

LINES = (
    "journal_id STRING, line_no INT, posted_on DATE, account STRING, cost_centre_id STRING, "
    "debit DECIMAL(14,2), credit DECIMAL(14,2), description STRING"
)
COST_CENTRES = (
    "cost_centre_id STRING, name STRING, department STRING, owner_email STRING, "
    "changed_at TIMESTAMP, __START_AT TIMESTAMP, __END_AT TIMESTAMP"
)


def _line(journal: str, line_no: int, day: date, account: str, cost_centre, debit, credit):
    return (journal, line_no, day, account, cost_centre, Decimal(debit), Decimal(credit), None)


def _seed(lakehouse) -> None:
    lakehouse.seed("dev_silver.erp.gl_journal_lines", [
        _line("J1", 1, date(2026, 3, 2), "6100", "CC-110", "100.00", "0"),
        _line("J1", 2, date(2026, 3, 2), "2400", None, "0", "100.00"),
        _line("J2", 1, date(2026, 3, 20), "6200", "CC-110", "40.00", "0"),  # after the rename
        _line("J2", 2, date(2026, 3, 20), "5000", "CC-999", "5.00", "0"),  # unknown centre
        _line("J2", 3, date(2026, 3, 20), "2400", None, "0", "45.00"),
        _line("J3", 1, date(2026, 4, 1), "1500", None, "70.00", "0"),
        _line("J3", 2, date(2026, 4, 1), "4000", None, "0", "70.00"),
        _line("J4", 1, date(2026, 4, 3), "6100", "CC-110", "0", "30.00"),  # a refund
        _line("J4", 2, date(2026, 4, 3), "1900", None, "30.00", "0"),
    ], LINES)  # fmt: skip
    lakehouse.seed("dev_silver.erp.cost_centres", [
        ("CC-110", "Field sales", "Sales", "kari@x.no", None,
         datetime(2026, 1, 1), datetime(2026, 3, 10, 9)),
        ("CC-110", "Key accounts", "Sales", "kari@x.no", None,
         datetime(2026, 3, 10, 9), None),
    ], COST_CENTRES)  # fmt: skip


def test_trial_balance_totals_debits_and_credits_per_account(lakehouse, domain, spark):
    _seed(lakehouse)
    lakehouse.run_pipelines(domain)
    expected = spark.createDataFrame(
        [
            ("1500", "asset", Decimal("70.00"), Decimal("0.00"), 1, Decimal("70.00")),
            ("1900", "asset", Decimal("30.00"), Decimal("0.00"), 1, Decimal("30.00")),
            ("2400", "liability", Decimal("0.00"), Decimal("145.00"), 2, Decimal("-145.00")),
            ("4000", "revenue", Decimal("0.00"), Decimal("70.00"), 1, Decimal("-70.00")),
            ("5000", "expense", Decimal("5.00"), Decimal("0.00"), 1, Decimal("5.00")),
            ("6100", "expense", Decimal("100.00"), Decimal("30.00"), 2, Decimal("70.00")),
            ("6200", "expense", Decimal("40.00"), Decimal("0.00"), 1, Decimal("40.00")),
        ],
        "account STRING, account_class STRING, debit DECIMAL(24,2), credit DECIMAL(24,2), "
        "lines BIGINT, balance DECIMAL(25,2)",
    )
    actual = lakehouse.table("dev_gold.finance.trial_balance")
    assert_table_equals(actual, expected)
    assert sum(r["balance"] for r in actual.collect()) == 0  # balanced journals balance


def test_monthly_spend_uses_the_cost_centre_name_in_force_on_the_posting_day(
    lakehouse, domain, spark
):
    _seed(lakehouse)
    lakehouse.run_pipelines(domain)
    expected = spark.createDataFrame(
        [
            (date(2026, 3, 1), "CC-110", "Field sales", "Sales", Decimal("100.00"), 1),
            (date(2026, 3, 1), "CC-110", "Key accounts", "Sales", Decimal("40.00"), 1),
            (date(2026, 3, 1), "CC-999", None, None, Decimal("5.00"), 1),
            (date(2026, 4, 1), "CC-110", "Key accounts", "Sales", Decimal("-30.00"), 1),
        ],
        "month DATE, cost_centre_id STRING, cost_centre_name STRING, department STRING, "
        "spend DECIMAL(25,2), lines BIGINT",
    )
    actual = lakehouse.table("dev_gold.finance.monthly_spend_by_cost_centre")
    assert_table_equals(actual, expected)

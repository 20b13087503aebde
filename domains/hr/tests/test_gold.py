"""HR gold logic, on a silver table written by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from lakehouse.testing import assert_table_equals

EMPLOYEES = (
    "employee_id BIGINT, full_name STRING, department STRING, job_title STRING, "
    "salary DECIMAL(12,2), hired_on DATE, changed_at TIMESTAMP, __START_AT TIMESTAMP, "
    "__END_AT TIMESTAMP"
)


def _version(employee_id: int, department: str, start: int, end: int | None = None):
    return (employee_id, f"E{employee_id}", department, "Lead", Decimal("600000"),
            date(2024, 1, 1), None, datetime(2026, 3, start),
            datetime(2026, 3, end) if end else None)  # fmt: skip


def test_headcount_counts_current_employees_in_their_current_department(lakehouse, domain, spark):
    lakehouse.seed("dev_silver.hris.employees", [
        _version(1, "Sales", 1, 5),
        _version(1, "Finance", 5),  # moved
        _version(2, "Sales", 1),
        _version(3, "Sales", 1, 9),  # left
        _version(4, "HR", 2),
    ], EMPLOYEES)  # fmt: skip
    lakehouse.run_pipelines(domain)
    expected = spark.createDataFrame(
        [("Finance", 1), ("Sales", 1), ("HR", 1)], "department STRING, headcount BIGINT"
    )
    actual = lakehouse.table("dev_gold.hr.headcount_by_department")
    assert_table_equals(actual, expected)
    properties = lakehouse.properties("dev_gold.hr.headcount_by_department")
    assert properties["lakehouse.classification"] == "general"  # aggregated: others may read it

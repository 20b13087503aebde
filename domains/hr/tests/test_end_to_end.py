"""HR end to end: two days of HRIS sample data landed, ingested and turned into gold; gold is
checked against what the landed records say it should be."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from chispa import assert_df_equality
from tests.domain_checks import DomainBatches, current, run_batches, scd2_versions

from lakehouse.engine import sql

DOMAIN = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hr(tmp_path_factory, spark) -> DomainBatches:
    return run_batches(DOMAIN, tmp_path_factory.mktemp("hr"), [0, 1], spark)


def test_bronze_and_silver_follow_each_contract(hr, spark):
    assert hr.table_problems(spark) == []


def test_every_landed_record_reaches_silver_or_is_quarantined_or_dropped(hr, spark):
    assert hr.conservation_problems() == []
    assert hr.quarantine_problems(spark) == []


def test_headcount_counts_current_employees_per_department(hr, spark):
    tracked = ["full_name", "department", "job_title", "salary", "hired_on"]
    versions = scd2_versions(hr.silver_records("employees"), hr.contract("employees"), tracked)
    headcount = Counter(v.record["department"] for v in current(versions).values())
    expected = spark.createDataFrame(list(headcount.items()), "department STRING, headcount BIGINT")
    actual = sql(hr.storage, "SELECT * FROM dev_gold.hr.headcount_by_department", spark=spark)
    assert_df_equality(
        actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True
    )
    assert sum(headcount.values()) == 60 + 3 - 1  # hires and the leaver of the second day

"""HR end to end: two days of HRIS sample data landed, ingested and turned into gold; gold is
checked against what the landed records say it should be."""

from __future__ import annotations

from collections import Counter

import pytest

from lakehouse.testing import (
    DomainBatches,
    LocalLakehouse,
    assert_table_equals,
    current_versions,
    scd2_versions,
)


@pytest.fixture(scope="module")
def hr(tmp_path_factory, spark, domain) -> DomainBatches:
    return LocalLakehouse(tmp_path_factory.mktemp("hr"), spark).run_batches(domain, [0, 1])


def test_bronze_and_silver_follow_each_contract(hr):
    assert hr.table_problems() == []


def test_every_landed_record_reaches_silver_or_is_quarantined_or_dropped(hr):
    assert hr.conservation_problems() == []
    assert hr.quarantine_problems() == []


def test_headcount_counts_current_employees_per_department(hr, spark):
    tracked = ["full_name", "department", "job_title", "salary", "hired_on"]
    versions = scd2_versions(hr.silver_records("employees"), hr.contract("employees"), tracked)
    headcount = Counter(v.record["department"] for v in current_versions(versions).values())
    expected = spark.createDataFrame(list(headcount.items()), "department STRING, headcount BIGINT")
    actual = hr.lakehouse.table("dev_gold.hr.headcount_by_department")
    assert_table_equals(actual, expected)
    assert sum(headcount.values()) == 60 + 3 - 1  # hires and the leaver of the second day

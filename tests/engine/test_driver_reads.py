"""Small Delta tables are read by delta-rs in the driver and give Spark the same frame as
Spark's own read: rows, types, nullability, comments, partition columns in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from chispa import assert_df_equality

from lakehouse.engine.storage.delta_table import LocalDeltaTable
from lakehouse.engine.storage.driver_reads import read_delta

COLUMNS = (
    "id INT NOT NULL COMMENT 'the order', country STRING, amount DECIMAL(10,2), "
    "placed TIMESTAMP, day DATE, tags ARRAY<INT>, attrs MAP<STRING,INT>, "
    "customer STRUCT<name: STRING, vip: BOOLEAN>"
)
ROWS = """VALUES
    (1, 'NO', 10.50, TIMESTAMP'2026-01-02 03:04:05.123456', DATE'2026-01-02', array(1, 2),
     map('a', 1), named_struct('name', 'Ann', 'vip', true)),
    (2, 'SE', NULL, NULL, NULL, NULL, NULL, NULL),
    (3, 'NO', -1.25, TIMESTAMP'1999-12-31 23:59:59', DATE'1999-12-31', array(), map(),
     named_struct('name', NULL, 'vip', false))"""


def _table(spark, path: Path, properties: str = "") -> Path:
    spark.sql(
        f"CREATE TABLE delta.`{path}` ({COLUMNS}) USING DELTA PARTITIONED BY (country) {properties}"
    )
    spark.sql(f"INSERT INTO delta.`{path}` {ROWS}")
    return path


def _leaf(frame) -> str:
    return frame._jdf.queryExecution().analyzed().collectLeaves().head().getClass().getSimpleName()


def test_an_empty_table_with_nested_columns_reads_as_an_empty_frame(spark, tmp_path):
    """A quarantine table before anything broke a rule: arrays, maps and structs, no rows."""
    path = tmp_path / "quarantine"
    spark.sql(f"CREATE TABLE delta.`{path}` ({COLUMNS}) USING DELTA")
    in_driver = read_delta(spark, LocalDeltaTable(path), streaming=False)
    assert in_driver.count() == 0
    assert in_driver.schema == spark.read.format("delta").load(str(path)).schema


def test_a_small_table_read_in_the_driver_equals_sparks_read(spark, tmp_path):
    path = _table(spark, tmp_path / "orders")
    in_driver = read_delta(spark, LocalDeltaTable(path), streaming=False)
    by_spark = spark.read.format("delta").load(str(path))
    assert _leaf(in_driver) == "LocalRelation"
    assert in_driver.schema == by_spark.schema  # names, order, types, nullability, comments
    assert_df_equality(in_driver.orderBy("id"), by_spark.orderBy("id"))


@pytest.mark.parametrize(
    ("options", "max_rows", "properties"),
    [
        ({}, 2, ""),
        ({"versionAsOf": "1"}, 100, ""),
        ({}, 0, ""),
        ({}, 100, "TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')"),
    ],
    ids=["more-rows-than-the-limit", "read-options", "limit-0", "reader-features"],
)
def test_other_reads_stay_with_spark(spark, tmp_path, options, max_rows, properties):
    path = _table(spark, tmp_path / "orders", properties)
    frame = read_delta(
        spark, LocalDeltaTable(path), streaming=False, options=options, max_driver_rows=max_rows
    )
    assert _leaf(frame) != "LocalRelation"
    assert frame.count() == 3

"""What changed in an input since the last scoring run is the same whether Spark reads the
change data feed or delta-rs does on the driver (a local run's small changes), and the
driver's merge records the scoring state where Spark's path reads it."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from lakehouse.engine.storage.delta_table import LocalDeltaTable
from lakehouse.scoring import small_changes
from lakehouse.scoring.batch_scoring import _last_state
from lakehouse.scoring.changed_rows import changed_rows

DDL = "customer_id BIGINT, orders BIGINT, segment STRING"
CUSTOMERS = [(1, 0, "retail"), (2, 1, "retail"), (3, 9, "corporate"), (4, 7, "corporate"),
             (5, 2, "retail"), (6, None, "retail")]  # fmt: skip
KEYS, FEATURES = ("customer_id",), ("orders", "segment")


@pytest.fixture
def customers(tmp_path, spark) -> str:
    """Version 0 as above; then a view-style rewrite (3 changed, 5 gone, 7 new, the others
    equal), an update setting 4's orders to NULL, and 7 deleted and inserted again."""
    path = str(tmp_path / "customers")

    def write(rows: list[tuple], mode: str) -> None:
        frame = spark.createDataFrame(rows, DDL).write.format("delta").mode(mode)
        frame.option("delta.enableChangeDataFeed", "true").save(path)

    write(CUSTOMERS, "overwrite")
    rewritten = [c for c in CUSTOMERS if c[0] not in (3, 5)] + [(3, 1, "corporate"), (7, 0, "retail")]  # fmt: skip
    write(rewritten, "overwrite")
    spark.sql(f"UPDATE delta.`{path}` SET orders = NULL WHERE customer_id = 4")
    spark.sql(f"DELETE FROM delta.`{path}` WHERE customer_id = 7")
    write([(7, 0, "retail")], "append")
    return path


def _rows(table: pa.Table) -> set[tuple]:
    return {tuple(r.values()) for r in table.to_pylist()}


def test_the_driver_and_spark_find_the_same_net_change(customers, spark):
    by_spark = changed_rows(spark, f"delta.`{customers}`", 0, 4, KEYS, FEATURES)
    by_driver = small_changes.read_change(LocalDeltaTable(customers), 0, 4, KEYS, FEATURES)
    assert by_driver is not None
    expected = {(3, 1, "corporate"), (4, None, "corporate"), (7, 0, "retail")}
    assert _rows(by_driver.changed) == expected
    assert {tuple(r) for r in by_spark.changed.collect()} == expected
    assert _rows(by_driver.deleted_keys) == {(5,)} == {tuple(r) for r in by_spark.deleted_keys.collect()}  # fmt: skip
    # After version 1 only 4 and 7 changed; 7 came back equal, so only 4 is scored again.
    later = small_changes.read_change(LocalDeltaTable(customers), 1, 4, KEYS, FEATURES)
    assert later is not None and _rows(later.changed) == {(4, None, "corporate")}


def test_a_change_feed_beyond_the_driver_limit_is_left_to_spark(customers, monkeypatch):
    monkeypatch.setattr(small_changes, "DRIVER_LIMIT", 3)
    assert small_changes.read_change(LocalDeltaTable(customers), 0, 4, KEYS, FEATURES) is None


def test_the_driver_merge_upserts_deletes_and_records_the_state_spark_reads(tmp_path, spark):
    path = str(tmp_path / "predictions")
    spark.createDataFrame(
        [(1, 1.0, "m", "1", "r0"), (5, 0.0, "m", "1", "r0")],
        "customer_id BIGINT, prediction DOUBLE, model_name STRING, model_version STRING, "
        "scoring_run_id STRING",
    ).write.format("delta").save(path)
    output = LocalDeltaTable(tmp_path / "predictions")
    rows = pa.table({
        "customer_id": pa.array([1, 7], pa.int64()), "prediction": [0.0, None],
        "model_name": ["m", "m"], "model_version": ["1", "1"], "scoring_run_id": ["r1", "r1"],
    })  # fmt: skip
    state = {"input_version": 4, "model_version": "1"}
    metadata = json.dumps({"lakehouse.scoring": {**state, "run_id": "r1"}})
    small_changes.merge_predictions(output, rows, pa.table({"customer_id": [5]}), KEYS, metadata)
    after = spark.read.format("delta").load(path).orderBy("customer_id").collect()
    assert [(r["customer_id"], r["prediction"], r["scoring_run_id"]) for r in after] == [
        (1, 0.0, "r1"), (7, None, "r1"),
    ]  # fmt: skip
    assert _last_state(spark, f"delta.`{path}`") == state

"""Small writes go through delta-rs in the driver and give the same tables as Spark's writes:
streaming-table micro-batches and materialized-view refreshes; a large first run goes through
Spark's own Delta sink. (AUTO CDC runs every test with both writers, in test_auto_cdc.py.)"""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from lakehouse.engine.settings import (
    DRIVER_WRITE_MAX_BATCH_BYTES,
    DRIVER_WRITE_MAX_VIEW_ROWS,
    SPARK_SINK_MIN_BACKFILL_BYTES,
)
from lakehouse.engine.storage.delta_table import LocalDeltaTable
from lakehouse.engine.storage.driver_writes import source_bytes
from lakehouse.engine.storage.streaming_append import StreamingAppend
from tests.conftest import ORDERS
from tests.engine.test_datasets import STREAM_ORDERS

TOTALS = (
    STREAM_ORDERS
    + """
    @dlt.table
    def orders():
        return landing()

    @dlt.table(comment="Totals by country", table_properties={"quality": "gold"})
    def totals():
        return (spark.read.table("orders").groupBy("country")
                .agg(F.sum("amount").alias(TOTAL), F.count("*").alias("orders")))
    """
)


def _writer_of_last_commit(workspace, name: str = "totals") -> str:
    table = DeltaTable(str(workspace.storage / f"catalog/main/sales/{name}"))
    return str(table.history(1)[0].get("clientVersion") or "Spark")


@pytest.mark.parametrize(
    ("configuration", "writer"),
    [({}, "delta-rs"), ({DRIVER_WRITE_MAX_BATCH_BYTES: "0"}, "Spark")],
    ids=["small", "over-the-limit"],
)
def test_streaming_table_batches_are_appended_once_whichever_writer(
    workspace, configuration, writer
):
    workspace.source(TOTALS.replace("TOTAL", '"total"'))
    workspace.land("a.json", ORDERS[:2])
    workspace.run(configuration=configuration)
    workspace.land("b.json", ORDERS[2:])
    result = workspace.run(configuration=configuration)
    assert writer in _writer_of_last_commit(workspace, "orders")
    assert result.rows_written("orders") == 2
    assert workspace.table("orders").count() == len(ORDERS)
    assert workspace.run(configuration=configuration).rows_written("orders") == 0


@pytest.mark.parametrize(
    ("configuration", "writer"),
    [({}, "delta-rs"), ({DRIVER_WRITE_MAX_VIEW_ROWS: "0"}, "Spark")],
    ids=["small", "over-the-limit"],
)
def test_refresh_writes_the_same_table_whichever_writer(workspace, configuration, writer):
    workspace.source(TOTALS.replace("TOTAL", '"total"'))
    workspace.land("a.json", ORDERS[:2])
    workspace.run(configuration=configuration)  # the first write is Spark's
    workspace.land("b.json", ORDERS[2:])
    result = workspace.run(configuration=configuration)
    assert writer in _writer_of_last_commit(workspace)
    assert result.rows_written("totals") == 3
    assert workspace.rows("totals", "country") == [
        {"country": "DE", "total": 20.0, "orders": 1},
        {"country": "FR", "total": 7.0, "orders": 1},
        {"country": "NL", "total": 5.0, "orders": 2},
    ]
    detail = DeltaTable(str(workspace.storage / "catalog/main/sales/totals")).metadata()
    assert detail.description == "Totals by country"
    assert detail.configuration["quality"] == "gold"
    schema = workspace.table("totals").schema
    assert all(field.nullable for field in schema.fields)


def test_a_changed_schema_is_written_by_spark(workspace):
    workspace.source(TOTALS.replace("TOTAL", '"total"'))
    workspace.land("a.json", ORDERS)
    workspace.run()
    workspace.source(TOTALS.replace("TOTAL", '"sum_amount"'))
    workspace.run()
    assert "Spark" in _writer_of_last_commit(workspace)
    assert "sum_amount" in workspace.table("totals").columns


def test_a_stream_started_over_from_a_new_checkpoint_is_not_taken_for_a_replay(workspace):
    workspace.source(TOTALS.replace("TOTAL", '"total"'))
    workspace.land("a.json", ORDERS)
    workspace.run()
    for checkpoint in workspace.storage.glob("pipelines/*/checkpoints/*orders*"):
        shutil.rmtree(checkpoint)
    assert workspace.run().rows_written("orders") == len(ORDERS)  # read again from the start
    assert workspace.table("orders").count() == 2 * len(ORDERS)


def test_a_large_first_run_goes_through_sparks_delta_sink_and_its_replay_appends_nothing(
    workspace,
):
    configuration = {SPARK_SINK_MIN_BACKFILL_BYTES: "10"}  # the first file is over it
    workspace.source(TOTALS.replace("TOTAL", '"total"'))
    workspace.land("a.json", ORDERS[:2])
    workspace.run(configuration=configuration)
    orders = DeltaTable(str(workspace.storage / "catalog/main/sales/orders"))
    assert orders.history(1)[0]["operation"] == "STREAMING UPDATE"  # Spark's sink
    # A crash after the sink committed batch 0, before the checkpoint did: the next update
    # runs batch 0 again, now through the driver, which finds the sink's transaction.
    (commits,) = workspace.storage.glob("pipelines/*/checkpoints/*orders*/*/commits")
    for file in ("0", ".0.crc"):
        (commits / file).unlink()
    workspace.land("b.json", ORDERS[2:])
    workspace.run(configuration=configuration)
    assert "delta-rs" in _writer_of_last_commit(workspace, "orders")
    assert workspace.table("orders").count() == len(ORDERS)


def test_a_batch_the_engine_committed_under_its_earlier_transaction_name_is_not_appended_again(
    tmp_path, spark
):
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    (checkpoint / "metadata").write_text(json.dumps({"id": "stream-1"}))
    table = LocalDeltaTable(tmp_path / "orders")
    table.append_once(pa.table({"id": [1, 2]}), "lakehouse:stream-1", 0)
    append = StreamingAppend(table, checkpoint, max_driver_bytes=1024 * 1024)
    append(spark.createDataFrame([(1,), (2,)], "id LONG"), 0)  # the replay
    assert table.row_count() == 2
    append(spark.createDataFrame([(3,)], "id LONG"), 1)
    assert table.row_count() == 3


def test_a_streams_source_size_counts_data_files_only_and_is_unknown_for_other_sources(
    tmp_path, spark
):
    landing = tmp_path / "landing"
    (landing / "day=1").mkdir(parents=True)
    (landing / "day=1" / "a.json").write_text('{"id": 1}\n' * 10)  # 10 lines of 10 bytes
    (landing / "_SUCCESS").write_text("x" * 1000)
    (landing / ".a.json.crc").write_text("x" * 1000)
    files = spark.readStream.format("json").schema("id LONG").load(str(landing))
    assert source_bytes(files) == 100
    table = LocalDeltaTable(tmp_path / "table")
    table.append(pa.table({"id": list(range(100))}))
    delta = spark.readStream.format("delta").load(str(table.path))
    assert source_bytes(delta) == table.live_bytes() > 0
    assert source_bytes(files.select("id").union(delta)) == 100 + table.live_bytes()
    assert source_bytes(spark.readStream.format("rate").load()) is None

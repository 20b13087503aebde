"""Small writes go through delta-rs in the driver and give the same tables as Spark's writes:
streaming-table micro-batches and materialized-view refreshes. (AUTO CDC runs every test with
both writers, in test_auto_cdc.py.)"""

from __future__ import annotations

import shutil

import pytest
from deltalake import DeltaTable

from lakehouse.engine.settings import DRIVER_WRITE_MAX_BATCH_BYTES, DRIVER_WRITE_MAX_VIEW_ROWS
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

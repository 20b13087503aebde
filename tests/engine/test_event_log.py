"""The event log has Databricks' shape and records every update and flow."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from lakehouse.engine import GraphError
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from tests.conftest import ORDERS
from tests.engine.test_datasets import ORDERS_PIPELINE, STREAM_ORDERS


def test_event_log_has_the_databricks_columns_and_origin(workspace):
    workspace.source(ORDERS_PIPELINE)
    workspace.land("a.json", ORDERS)
    result = workspace.run()
    frame = workspace.table("main.sales.event_log")
    assert frame.columns == [
        "id",
        "timestamp",
        "event_type",
        "level",
        "maturity_level",
        "message",
        "origin",
        "error",
        "details",
    ]
    assert frame.schema["origin"].dataType.fieldNames() == [
        "pipeline_name",
        "update_id",
        "flow_name",
        "dataset_name",
        "pipeline_id",
    ]
    events = workspace.events()
    assert {e["origin"]["update_id"] for e in events} == {result.update_id}
    assert {e["origin"]["pipeline_name"] for e in events} == {"test_pipeline"}
    second = workspace.run()  # a pipeline's id stays; each update has its own
    ids = {(e["origin"]["pipeline_id"], e["origin"]["update_id"]) for e in workspace.events()}
    assert {u for _, u in ids} == {result.update_id, second.update_id}
    ((pipeline_id,),) = {(p,) for p, _ in ids}
    assert len(pipeline_id) == 36  # a UUID, as Databricks' pipeline ids are
    states = [
        e["details"]["update_progress"]["state"]
        for e in events
        if e["event_type"] == "update_progress"
    ]
    assert states == ["INITIALIZING", "SETTING_UP_TABLES", "RUNNING", "COMPLETED"]
    statuses = [
        e["details"]["flow_progress"]["status"]
        for e in events
        if e["event_type"] == "flow_progress"
    ]
    assert statuses == ["STARTING", "COMPLETED"]
    assert events[0]["event_type"] == "create_update"


def test_flow_progress_carries_output_rows_dropped_records_and_expectations(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    @dlt.expect_or_drop("has_id", "id IS NOT NULL")
    @dlt.expect("positive", "amount > 0")
    def orders():
        return landing()
    """
    )
    workspace.land("a.json", ORDERS)
    workspace.run()
    query = """
        SELECT get_json_object(details, '$.flow_progress.metrics.num_output_rows') AS rows,
               get_json_object(details, '$.flow_progress.data_quality.dropped_records') AS dropped,
               get_json_object(details, '$.flow_progress.data_quality.expectations') AS expectations
        FROM main.sales.event_log
        WHERE event_type = 'flow_progress'
          AND get_json_object(details, '$.flow_progress.status') = 'COMPLETED'
    """
    row = workspace.sql(query).collect()[0]
    assert (row["rows"], row["dropped"]) == ("3", "1")
    assert json.loads(row["expectations"]) == [
        {
            "name": "has_id",
            "dataset": "main.sales.orders",
            "passed_records": 3,
            "failed_records": 1,
        },
        {
            "name": "positive",
            "dataset": "main.sales.orders",
            "passed_records": 3,
            "failed_records": 1,
        },
    ]


def test_flow_definitions_name_each_flows_direct_inputs_for_lineage(workspace):
    """As Databricks' event log does (``flow_definition``: output_dataset, input_datasets):
    a view is an input itself, and a table another pipeline writes is named in full."""
    rates = pa.table({"country": ["NL", "DE"], "rate": [1.0, 1.1]})
    LocalCatalog(workspace.storage).table(TableName("main", "ref", "rates")).append(rates)
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    def orders():
        return landing()

    @dlt.view
    def large_orders():
        return spark.read.table("orders").where("amount > 5")

    @dlt.table
    def converted():
        return spark.read.table("large_orders").join(spark.read.table("ref.rates"), "country")
    """
    )
    workspace.land("a.json", ORDERS)
    workspace.run()
    flows = {
        e["origin"]["flow_name"]: e["details"]["flow_definition"]
        for e in workspace.events()
        if e["event_type"] == "flow_definition"
    }
    declared = {
        name: (flow["output_dataset"], flow["input_datasets"], flow["flow_type"])
        for name, flow in flows.items()
    }
    assert declared == {
        "main.sales.orders": ("main.sales.orders", [], "APPEND"),
        "large_orders": ("large_orders", ["main.sales.orders"], "COMPLETE"),
        "main.sales.converted": (
            "main.sales.converted",
            ["large_orders", "main.ref.rates"],
            "COMPLETE",
        ),
    }


def test_failed_update_is_logged_with_its_error(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    def orders():
        return spark.read.table("missing")
    """
    )
    with pytest.raises(GraphError):
        workspace.run()
    last = workspace.events()[-1]
    assert last["event_type"] == "update_progress"
    assert last["level"] == "ERROR"
    assert "unknown dataset 'missing'" in last["error"]


def test_event_logs_of_successive_updates_accumulate(workspace):
    workspace.source(ORDERS_PIPELINE)
    workspace.land("a.json", ORDERS)
    first, second = workspace.run(), workspace.run()
    updates = {e["origin"]["update_id"] for e in workspace.events()}
    assert updates == {first.update_id, second.update_id}

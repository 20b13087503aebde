"""Triggered updates are incremental for streaming tables; full refresh starts over."""

from __future__ import annotations

from tests.conftest import ORDERS
from tests.engine.test_datasets import CHECKED_ORDERS_PIPELINE

PIPELINE = (
    CHECKED_ORDERS_PIPELINE
    + """
    @dlt.table
    def orders_enriched():
        return dlt.read_stream("orders").withColumn("amount_cents", F.col("amount") * 100)

    @dp.materialized_view
    def totals():
        return spark.read.table("orders_enriched").groupBy("country").agg(F.sum("amount").alias("total"))
    """
)


def _flow_metrics(workspace, update_id: str) -> dict[str, int]:
    return {
        e["origin"]["flow_name"]: e["details"]["flow_progress"]["metrics"]["num_output_rows"]
        for e in workspace.events()
        if e["event_type"] == "flow_progress"
        and e["origin"]["update_id"] == update_id
        and e["details"]["flow_progress"]["status"] == "COMPLETED"
    }


def test_second_update_processes_only_new_data_in_streaming_tables(workspace):
    workspace.source(PIPELINE)
    workspace.land("1.json", ORDERS)
    first = workspace.run()
    workspace.land("2.json", [{"id": 10, "amount": 1.0, "country": "NL"}])
    second = workspace.run()

    assert _flow_metrics(workspace, first.update_id) == {
        "main.sales.orders": 3,
        "main.sales.orders_enriched": 3,
        "main.sales.totals": 2,
    }
    assert _flow_metrics(workspace, second.update_id) == {
        "main.sales.orders": 1,
        "main.sales.orders_enriched": 1,
        "main.sales.totals": 2,  # recomputed over all rows
    }
    assert workspace.table("orders_enriched").count() == 4
    totals = {r["country"]: r["total"] for r in workspace.table("totals").collect()}
    assert totals == {"NL": 6.0, "DE": 20.0}


def test_update_with_no_new_data_writes_nothing_to_streaming_tables(workspace):
    workspace.source(PIPELINE)
    workspace.land("1.json", ORDERS)
    workspace.run()
    again = workspace.run()
    assert again.rows_written("orders") == 0
    assert workspace.table("orders").count() == 3


def test_full_refresh_rebuilds_every_table_from_all_source_data(workspace, spark):
    workspace.source(PIPELINE)
    workspace.land("1.json", ORDERS)
    workspace.run()
    # Tamper with a streaming table: a full refresh must throw this away.
    spark.createDataFrame([(99, 1.0, "XX")], "id INT, amount DOUBLE, country STRING").write.format(
        "delta"
    ).mode("append").save(str(workspace.storage / "catalog/main/sales/orders"))
    result = workspace.run(full_refresh=True)
    assert result.rows_written("orders") == 3
    assert sorted(r["id"] for r in workspace.table("orders").collect()) == [1, 2, 3]


def test_refresh_selection_rebuilds_only_the_named_tables(workspace, spark):
    workspace.source(PIPELINE)
    workspace.land("1.json", ORDERS)
    workspace.run()
    spark.createDataFrame([(99, 1.0, "XX")], "id INT, amount DOUBLE, country STRING").write.format(
        "delta"
    ).mode("append").save(str(workspace.storage / "catalog/main/sales/orders"))
    workspace.land("2.json", [{"id": 10, "amount": 1.0, "country": "NL"}])
    result = workspace.run(refresh=["orders"])
    assert [f.dataset for f in result.flows] == ["main.sales.orders"]
    assert sorted(r["id"] for r in workspace.table("orders").collect()) == [1, 2, 3, 10]
    # Tables outside the selection were left as they were.
    assert workspace.table("orders_enriched").count() == 3


def test_state_survives_in_the_storage_folder_across_processes(workspace):
    """A second run with a new engine instance continues from the checkpoints on disk."""
    workspace.source(PIPELINE)
    workspace.land("1.json", ORDERS)
    workspace.run()
    checkpoints = workspace.storage / "pipelines/test_pipeline/checkpoints"
    assert (checkpoints / "main.sales.orders/main.sales.orders/offsets").is_dir()
    workspace.land("2.json", [{"id": 11, "amount": 2.0, "country": "DE"}])
    assert workspace.run().rows_written("orders") == 1


def test_flows_over_unchanged_pipeline_tables_are_skipped_and_rerun_when_inputs_change(workspace):
    workspace.source(PIPELINE)
    workspace.land("1.json", ORDERS)
    workspace.run()
    idle = workspace.run()
    skipped = {f.dataset: f.skipped for f in idle.flows}
    assert skipped == {
        "main.sales.orders": False,  # reads files: always looks for new ones
        "main.sales.orders_enriched": True,
        "main.sales.totals": True,
    }
    workspace.land("2.json", [{"id": 10, "amount": 1.0, "country": "NL"}])
    busy = workspace.run()
    assert not any(f.skipped for f in busy.flows)
    assert {r["country"]: r["total"] for r in workspace.table("totals").collect()}["NL"] == 6.0


def test_materialized_view_is_recomputed_when_its_query_changes(workspace):
    workspace.source(PIPELINE)
    workspace.land("1.json", ORDERS)
    workspace.run()
    workspace.source(PIPELINE.replace('F.sum("amount")', 'F.max("amount")'))
    result = workspace.run()
    assert {f.dataset: f.skipped for f in result.flows}["main.sales.totals"] is False
    assert {r["country"]: r["total"] for r in workspace.table("totals").collect()}["NL"] == 10.0


def test_materialized_view_over_data_outside_the_pipeline_is_always_recomputed(workspace):
    workspace.source(
        """
    import dlt

    @dlt.table
    def literal():
        return spark.createDataFrame([(1,)], "id INT")
    """
    )
    workspace.run()
    assert workspace.run().flows[0].skipped is False

"""Continuous mode: streams keep running and materialized views follow their inputs until the
update is stopped; a stop leaves nothing half-done for the next update."""

from __future__ import annotations

import threading
import time

from tests.conftest import ORDERS
from tests.engine.test_datasets import CHECKED_ORDERS_PIPELINE

PIPELINE = (
    CHECKED_ORDERS_PIPELINE
    + """
    @dlt.table
    def revenue():
        return spark.read.table("orders").agg(F.count("*").alias("orders"), F.sum("amount").alias("amount"))
    """
)


def _wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the continuous update did not get there in time"
        time.sleep(0.25)


def _orders_in_revenue(workspace) -> int:
    if not (workspace.storage / "catalog/main/sales/revenue/_delta_log").is_dir():
        return -1
    rows = workspace.table("revenue").collect()
    return rows[0]["orders"] if rows else -1


def test_files_landing_during_a_continuous_update_reach_the_materialized_view(workspace):
    workspace.source(PIPELINE)
    workspace.land("1.json", ORDERS[:1])
    stop = threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = workspace.run(continuous=True, stop=stop)
        except BaseException as error:  # surfaced by the assertions below
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    try:
        _wait_for(lambda: _orders_in_revenue(workspace) == 1)
        workspace.land("2.json", ORDERS[1:])  # two more orders and one without an id
        _wait_for(lambda: _orders_in_revenue(workspace) == 3)
    finally:
        stop.set()
        thread.join(120)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert result.rows_written("orders") == 3
    assert result.expectation("orders", "has_id")["failed_records"] == 1

    after = workspace.run()  # a triggered update continues where the stream stopped
    assert after.rows_written("orders") == 0
    assert workspace.table("orders").count() == 3


def test_continuous_update_stops_after_the_given_seconds(workspace):
    workspace.source(PIPELINE)
    workspace.land("1.json", ORDERS)
    started = time.monotonic()
    result = workspace.run(continuous=True, run_for=3)
    assert time.monotonic() - started < 60
    assert result.rows_written("orders") == 3
    assert _orders_in_revenue(workspace) == 3


def test_a_continuous_full_refresh_rebuilds_the_tables_before_streaming(workspace):
    workspace.source(PIPELINE)
    workspace.land("1.json", ORDERS)
    workspace.run()
    result = workspace.run(continuous=True, run_for=3, full_refresh=True)
    assert result.rows_written("orders") == 3
    assert workspace.table("orders").count() == 3
    assert _orders_in_revenue(workspace) == 3

"""AUTO CDC from snapshots, as Databricks documents it: a new key is inserted, a changed row
updated, a vanished key deleted; SCD2 versions are snapshot versions. The source is a table
read once per update (periodic snapshots) or a function returning versioned snapshots
(historical snapshots)."""

from __future__ import annotations

import json
from textwrap import dedent

import pytest

from lakehouse.engine.errors import GraphError

SNAPSHOTS = [
    [{"id": 1, "name": "Ann", "city": "Oslo"}, {"id": 2, "name": "Bo", "city": "Rome"}],
    [{"id": 1, "name": "Ann", "city": "Bergen"}, {"id": 3, "name": "Cy", "city": "Pisa"}],
]
LATEST = [{"id": 1, "name": "Ann", "city": "Bergen"}, {"id": 3, "name": "Cy", "city": "Pisa"}]
HISTORY = [
    {"id": 1, "name": "Ann", "city": "Oslo", "__START_AT": 1, "__END_AT": 2},
    {"id": 1, "name": "Ann", "city": "Bergen", "__START_AT": 2, "__END_AT": None},
    {"id": 2, "name": "Bo", "city": "Rome", "__START_AT": 1, "__END_AT": 2},
    {"id": 3, "name": "Cy", "city": "Pisa", "__START_AT": 2, "__END_AT": None},
]

TARGETS = """
dlt.create_streaming_table("latest")
dlt.create_streaming_table("history")
dlt.create_auto_cdc_from_snapshot_flow(target="latest", source={source}, keys=["id"])
dlt.apply_changes_from_snapshot(target="history", source={source}, keys=["id"],
                                stored_as_scd_type=2)
"""


def _history(workspace) -> list[dict]:
    return workspace.rows("history", "id, __START_AT")


def test_periodic_snapshots_of_a_table_update_insert_and_delete(workspace):
    workspace.source(
        dedent("""
        import dlt

        @dlt.table
        def customers_snapshot():
            return spark.read.schema("id INT, name STRING, city STRING").json(
                spark.conf.get("landing"))
        """)
        + TARGETS.format(source='"customers_snapshot"')
    )
    for snapshot in SNAPSHOTS:
        workspace.land("customers.json", snapshot)  # the source table, replaced
        result = workspace.run()
    assert workspace.rows("latest", "id") == LATEST
    assert _history(workspace) == HISTORY
    assert result.rows_written("latest") == 2  # Ann's move and Cy; Bo's delete is no row
    unchanged = workspace.run()  # the same snapshot again: nothing to apply
    assert unchanged.rows_written("latest") == unchanged.rows_written("history") == 0
    assert _history(workspace) == HISTORY


def test_historical_snapshots_from_a_function_are_applied_in_version_order(workspace):
    workspace.source(
        dedent(f"""
        import dlt

        SNAPSHOTS = {json.dumps(SNAPSHOTS)}

        def next_snapshot_and_version(latest_version):
            version = 1 if latest_version is None else latest_version + 1
            if version > len(SNAPSHOTS):
                return None
            rows = [(r["id"], r["name"], r["city"]) for r in SNAPSHOTS[version - 1]]
            return spark.createDataFrame(rows, "id INT, name STRING, city STRING"), version
        """)
        + TARGETS.format(source="next_snapshot_and_version")
    )
    first = workspace.run()
    assert workspace.rows("latest", "id") == LATEST
    assert _history(workspace) == HISTORY
    assert first.rows_written("latest") == 4  # 2 inserted, then 1 updated and 1 inserted
    again = workspace.run()  # the function has no snapshot after version 2
    assert again.rows_written("history") == 0 and _history(workspace) == HISTORY


def test_a_snapshot_function_that_returns_something_else_is_named(workspace):
    workspace.source(
        dedent("""
        import dlt

        def broken(latest_version):
            return spark.range(1)  # no version
        """)
        + TARGETS.format(source="broken")
    )
    with pytest.raises(GraphError, match=r"must return \(DataFrame, version\) or None"):
        workspace.run()

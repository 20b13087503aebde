"""Delta change data feed inside pipelines: changes in silver flow on to gold incrementally, and
a table's audit history can be read and replayed."""

from __future__ import annotations

PIPELINE = """
import dlt
from pyspark.sql import functions as F, Window

@dlt.view
def changes():
    return (spark.readStream.format("json").schema("id INT, tier STRING, op STRING, seq INT")
            .load(spark.conf.get("landing")))

dlt.create_streaming_table(
    "customers", table_properties={"delta.enableChangeDataFeed": "true"}
)
dlt.apply_changes(
    target="customers", source="changes", keys=["id"], sequence_by="seq",
    apply_as_deletes="op = 'D'", except_column_list=["op", "seq"],
)

@dlt.table
def customer_changes():
    return spark.readStream.option("readChangeFeed", "true").table("customers")

@dlt.table
def customers_replayed():
    history = (spark.read.option("readChangeFeed", "true").option("startingVersion", 0)
               .table("customers").where("_change_type != 'update_preimage'"))
    latest = Window.partitionBy("id").orderBy(F.col("_commit_version").desc())
    return (history.withColumn("rank", F.row_number().over(latest))
            .where("rank = 1 AND _change_type != 'delete'").select("id", "tier"))
"""


def _event(id, tier, op, seq):  # the column is called id
    return {"id": id, "tier": tier, "op": op, "seq": seq}


def test_streaming_read_of_the_change_feed_takes_only_new_changes(workspace):
    workspace.source(PIPELINE)
    workspace.land("1.json", [_event(1, "gold", "I", 1), _event(2, "silver", "I", 1)])
    workspace.run()
    first = workspace.rows("customer_changes", "id")
    assert [(r["id"], r["_change_type"]) for r in first] == [(1, "insert"), (2, "insert")]

    workspace.land("2.json", [_event(1, "platinum", "U", 2), _event(2, None, "D", 2)])
    second = workspace.run()
    assert second.rows_written("customer_changes") == 3  # pre- and post-image, and the delete
    changes = workspace.sql(
        "SELECT id, tier, _change_type FROM customer_changes WHERE _commit_version > "
        f"{first[0]['_commit_version']} ORDER BY id, _change_type"
    ).collect()
    assert [tuple(r) for r in changes] == [
        (1, "platinum", "update_postimage"),
        (1, "gold", "update_preimage"),
        (2, "silver", "delete"),
    ]


def test_a_tables_audit_history_replays_to_its_current_rows(workspace):
    workspace.source(PIPELINE)
    workspace.land("1.json", [_event(1, "gold", "I", 1), _event(2, "silver", "I", 1)])
    workspace.run()
    workspace.land("2.json", [_event(1, "platinum", "U", 2), _event(2, None, "D", 2)])
    workspace.land("3.json", [_event(3, "bronze", "I", 3)])
    workspace.run()
    assert workspace.rows("customers_replayed", "id") == workspace.rows("customers", "id")
    assert [r["id"] for r in workspace.rows("customers", "id")] == [1, 3]

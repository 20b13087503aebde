"""The Delta table object: its log read by hand agrees with what delta-rs committed."""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql.types import LongType, StringType, StructField, StructType

from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.engine.storage.delta_table import LOG_FOLDER, LocalDeltaTable, MergeClauses

ROWS = pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["a", "b"]})


def _created(tmp_path) -> LocalDeltaTable:
    table = LocalDeltaTable(tmp_path / "users")
    schema = StructType([StructField("id", LongType()), StructField("name", StringType())])
    table.create(schema, partition_by=[], comment=None, properties={"team": "crm"})
    return table


def test_a_missing_table_has_no_version_and_a_created_one_is_never_written(tmp_path):
    assert LocalDeltaTable(tmp_path / "missing").version() == -1
    assert not LocalDeltaTable(tmp_path / "missing").exists()
    table = _created(tmp_path)
    assert (table.version(), table.never_written(), table.properties()) == (0, True, {"team": "crm"})  # fmt: skip
    table.append(ROWS)
    assert (table.version(), table.never_written(), table.row_count()) == (1, False, 2)


def test_a_log_left_empty_by_a_creation_cut_short_is_no_table_of_the_catalog(tmp_path):
    catalog = LocalCatalog(tmp_path)
    users, orders = TableName("main", "crm", "users"), TableName("main", "crm", "orders")
    _created(catalog.table_path(users).parent)
    (catalog.table_path(orders) / LOG_FOLDER).mkdir(parents=True)
    assert catalog.tables() == [users]
    assert catalog.exists(users) and not catalog.exists(orders)


def test_a_transaction_is_found_after_a_checkpoint_replaced_its_commit(tmp_path):
    table = _created(tmp_path)
    table.append_once(ROWS, "lakehouse:crm:backfill_users", 0)
    table.delta_rs().create_checkpoint()
    table.append(ROWS)
    for commit in sorted((tmp_path / "users" / LOG_FOLDER).glob("*.json"))[:-1]:
        commit.unlink()  # as a log cleanup does once a checkpoint holds the state
    assert table.version() == 2 and table.row_count() == 4
    assert table.has_transaction("lakehouse:crm:backfill_users")
    assert not table.has_transaction("lakehouse:crm:backfill_orders")
    assert not LocalDeltaTable(tmp_path / "missing").has_transaction("lakehouse:crm:x")


def test_a_replayed_append_once_adds_nothing(tmp_path):
    table = _created(tmp_path)
    table.append_once(ROWS, "lakehouse:p:flow", 0)
    table.append_once(ROWS, "lakehouse:p:flow", 0)
    assert table.row_count() == 2
    assert table.has_transaction("lakehouse:p:flow")
    assert not table.has_transaction("lakehouse:p:other")


def test_a_merge_reports_the_rows_it_upserted_and_deleted(tmp_path):
    table = _created(tmp_path)
    table.append(ROWS)
    changes = pa.table({"id": pa.array([2, 3], pa.int64()), "name": [None, "c"]})
    done = table.merge_rows(
        changes,
        lambda q: MergeClauses(
            on=f"t.{q('id')} = s.{q('id')}",
            delete_when=f"s.{q('name')} IS NULL",
            insert_values={q("id"): f"s.{q('id')}", q("name"): f"s.{q('name')}"},
        ),
    )
    assert done == {"num_upserted_rows": 1, "num_deleted_rows": 1}
    assert sorted(table.delta_rs().to_pyarrow_table().column("id").to_pylist()) == [1, 3]
    assert table.commit_metrics(after_version=1)["num_target_rows_deleted"] == 1


def test_string_keys_are_found_in_files_a_delta_rs_merge_wrote(tmp_path):
    table = LocalDeltaTable(tmp_path / "by_name")
    table.append(pa.table({"name": ["z"], "n": pa.array([0], pa.int64())}))
    table.merge_rows(
        pa.table({"name": ["a", "b"], "n": pa.array([1, 2], pa.int64())}),
        lambda q: MergeClauses(
            on=f"t.{q('name')} = s.{q('name')}",
            insert_values={q("name"): f"s.{q('name')}", q("n"): f"s.{q('n')}"},
        ),
    )
    found = table.keyed_rows(pa.table({"name": ["a", "z"]}), ["name", "n"])
    assert sorted(found.to_pylist(), key=lambda r: r["name"]) == [
        {"name": "a", "n": 1},
        {"name": "z", "n": 0},
    ]

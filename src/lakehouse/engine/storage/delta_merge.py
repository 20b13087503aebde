"""How an AUTO CDC micro-batch reaches its Delta tables: in the driver with delta-rs, or with
Spark's Delta MERGE (``driver_writes.py`` says which).

In the driver, the rows of the batch's keys are read from the target and the engine's state
tables with delta-rs (file statistics skip the rest), what to write is computed from them, and
delta-rs MERGEs it. With Spark, the same comes from Spark reads and a Spark MERGE. The clauses
are written once: ``clauses`` receives the writer's identifier quoting (backticks for Spark,
double quotes for delta-rs) and returns SQL both understand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import deltalake
import pyarrow as pa
import pyarrow.compute as pc
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from lakehouse.engine.storage.delta_commits import merge_counts
from lakehouse.engine.storage.delta_log import delta_version

Quote = Callable[[str], str]


@dataclass(frozen=True)
class MergeClauses:
    """A MERGE's condition and actions, as SQL, target aliased ``t`` and source ``s``; each
    action applies when its condition (if any) holds, in the order below."""

    on: str
    insert_values: Mapping[str, str] = field(default_factory=dict)
    insert_when: str | None = None
    delete_when: str | None = None
    update_set: Mapping[str, str] = field(default_factory=dict)
    update_when: str | None = None


def rows_with_keys(
    session: SparkSession, table: Path, keys: DataFrame, schema: StructType, *, in_driver: bool
) -> DataFrame:
    """The rows of the Delta table at ``table`` whose key columns equal a row of ``keys``,
    with ``schema``'s columns: read by delta-rs and given to Spark as local data in the driver,
    a semi join of the whole table otherwise.

    Example:
        >>> rows_with_keys(spark, store, batch.select("id").distinct(), store_schema,
        ...                in_driver=True)  # doctest: +SKIP
        DataFrame[id: int, name: string, __seq: int, __delete: boolean]
    """
    if not in_driver:
        stored = session.read.format("delta").load(str(table))
        return stored.join(keys, keys.columns, "left_semi").select(*schema.fieldNames())
    rows = keyed_rows(table, keys.toArrow(), schema.fieldNames())
    return session.createDataFrame(rows, schema=schema)


def keyed_rows(table: Path, keys: pa.Table, columns: list[str]) -> pa.Table:
    """The ``columns`` of the rows of the Delta table at ``table`` whose key columns (those of
    ``keys``) equal a row of ``keys``, read by delta-rs; file statistics skip the other files.

    Example:
        >>> keyed_rows(Path("/lh/catalog/main/crm/users"), pa.table({"id": [1, 2]}),
        ...            ["id", "name"]).num_rows  # doctest: +SKIP
        2
    """
    names = keys.column_names
    dataset = deltalake.DeltaTable(str(table)).to_pyarrow_dataset()
    first = keys.column(names[0]).cast(dataset.schema.field(names[0]).type)
    rows = dataset.to_table(columns=columns, filter=pc.field(names[0]).isin(first))
    return rows if len(names) == 1 else rows_by_keys(rows, keys, matching=True)


def rows_by_keys(rows: pa.Table, keys: pa.Table, *, matching: bool) -> pa.Table:
    """The ``rows`` whose values in ``keys``' columns equal a row of ``keys`` (``matching``),
    or equal none of them.

    Example:
        >>> rows_by_keys(pa.table({"id": [1, 2], "v": ["a", "b"]}), pa.table({"id": [2]}),
        ...              matching=False).to_pylist()
        [{'id': 1, 'v': 'a'}]
    """
    names = keys.column_names
    wanted = set(zip(*(keys.column(n).to_pylist() for n in names), strict=True))
    found = zip(*(rows.column(n).to_pylist() for n in names), strict=True)
    return rows.filter(pa.array([(key in wanted) == matching for key in found], pa.bool_()))


def merge_rows(target: Path, rows: pa.Table, clauses: Callable[[Quote], MergeClauses]) -> dict:
    """MERGE ``rows`` into the Delta table at ``target`` with delta-rs; returns the rows
    upserted and deleted.

    Example:
        >>> merge_rows(Path("/lh/catalog/main/crm/users"), arrow_rows,
        ...            lambda q: MergeClauses(on=f"t.{q('id')} = s.{q('id')}",
        ...                                   insert_values={q("id"): f"s.{q('id')}"}))  # doctest: +SKIP
        {'num_upserted_rows': 120, 'num_deleted_rows': 0}
    """
    if rows.num_rows == 0:
        return {"num_upserted_rows": 0, "num_deleted_rows": 0}
    c = clauses(_double_quoted)
    merge = deltalake.DeltaTable(str(target)).merge(rows, c.on, source_alias="s", target_alias="t")
    if c.delete_when is not None:
        merge = merge.when_matched_delete(predicate=c.delete_when)
    if c.update_set:
        merge = merge.when_matched_update(updates=dict(c.update_set), predicate=c.update_when)
    if c.insert_values:
        merge = merge.when_not_matched_insert(
            updates=dict(c.insert_values), predicate=c.insert_when
        )
    metrics = merge.execute()
    return {
        "num_upserted_rows": metrics["num_target_rows_inserted"]
        + metrics["num_target_rows_updated"],
        "num_deleted_rows": metrics["num_target_rows_deleted"],
    }


def merge_frame(
    target: Path, rows: DataFrame, clauses: Callable[[Quote], MergeClauses]
) -> dict[str, int]:
    """MERGE ``rows`` into the Delta table at ``target`` with Spark; returns the rows upserted
    and deleted.

    Example:
        >>> merge_frame(Path("/lh/catalog/main/crm/users"), latest, users_clauses)  # doctest: +SKIP
        {'num_upserted_rows': 2400000, 'num_deleted_rows': 1200}
    """
    c = clauses(_backticked)
    before = delta_version(target)
    merge = (
        DeltaTable.forPath(rows.sparkSession, str(target)).alias("t").merge(rows.alias("s"), c.on)
    )
    if c.delete_when is not None:
        merge = merge.whenMatchedDelete(condition=c.delete_when)
    if c.update_set:
        merge = merge.whenMatchedUpdate(condition=c.update_when, set=dict(c.update_set))
    if c.insert_values:
        merge = merge.whenNotMatchedInsert(condition=c.insert_when, values=dict(c.insert_values))
    merge.execute()
    return merge_counts(target, before)


def _double_quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _backticked(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"

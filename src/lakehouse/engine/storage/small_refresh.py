"""Refreshes of small materialized views, written by delta-rs in the driver
(``driver_writes.py`` says when).

Spark computes the new result and delta-rs overwrites the table with it: the same commit Spark
would make (every old file removed, the new ones added); the table keeps its schema and
properties. A view whose schema changes is written by Spark.
"""

from __future__ import annotations

from pyspark.sql import DataFrame

from lakehouse.engine.storage.delta_table import LocalDeltaTable


def overwrite_small_result(
    frame: DataFrame, table: LocalDeltaTable, partition_cols: list[str], max_rows: int
) -> int | None:
    """Overwrite ``table`` with ``frame``'s rows by delta-rs when the view has at most
    ``max_rows`` rows; returns the rows written, or None when Spark should.

    Example:
        >>> daily = LocalDeltaTable(Path("/lh/catalog/main/sales/daily"))
        >>> overwrite_small_result(gold_query, daily, [], max_rows=100_000)  # doctest: +SKIP
        31
    """
    if not table.delta_rs_writes():
        return None
    snapshot = table.delta_rs()
    count = table.row_count(snapshot)
    if count is None or count > max_rows:
        return None
    if table.spark_schema(snapshot).simpleString() != frame.schema.simpleString():
        return None
    rows = frame.toArrow()
    # No schema_mode: the table keeps its schema (Spark's, every column nullable).
    table.overwrite(rows, partition_cols)
    return rows.num_rows

"""Refreshes of small materialized views, written by delta-rs in the driver
(``driver_writes.py`` says when).

Spark computes the new result and delta-rs overwrites the table with it: the same commit Spark
would make (every old file removed, the new ones added); the table keeps its schema and
properties. A view whose schema changes is written by Spark.
"""

from __future__ import annotations

import json
from pathlib import Path

import deltalake
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql.types import StructType

from lakehouse.engine.storage.driver_writes import delta_rs_writes


def overwrite_small_result(
    frame: DataFrame, table: Path, partition_cols: list[str], max_rows: int
) -> int | None:
    """Overwrite the Delta table at ``table`` with ``frame``'s rows by delta-rs when the view
    has at most ``max_rows`` rows; returns the rows written, or None when Spark should.

    Example:
        >>> overwrite_small_result(gold_query, Path("/lh/catalog/main/sales/daily"), [],
        ...                        max_rows=100_000)  # doctest: +SKIP
        31
    """
    if not delta_rs_writes(table):
        return None
    current = deltalake.DeltaTable(str(table))
    sizes = pa.table(current.get_add_actions(flatten=True)).column("num_records")
    if sizes.null_count or (pc.sum(sizes).as_py() or 0) > max_rows:
        return None
    stored = StructType.fromJson(json.loads(current.schema().to_json()))
    if stored.simpleString() != frame.schema.simpleString():
        return None
    rows = frame.toArrow()
    # No schema_mode: the table keeps its schema (Spark's, every column nullable).
    deltalake.write_deltalake(current, rows, mode="overwrite", partition_by=partition_cols or None)
    return rows.num_rows

"""When a batch read of a Delta table goes through delta-rs in the driver instead of Spark.

Spark's first read of a Delta table after a commit rebuilds the table's snapshot, about a
second on two cores whatever the table's size. A materialized view refreshed from a small
table (a gold aggregate over silver, in continuous mode every few seconds) pays that on every
refresh. So a batch read without options of a table holding at most
``lakehouse.driverRead.maxRows`` rows (default 100,000; a setting of the pipeline's
configuration, 0 turns this off) whose protocol delta-rs reads (reader version 1) is read by
delta-rs into Arrow and given to Spark as local data: the same rows and the same schema
(types, nullability, comments). Past about 100,000 rows, handing the rows to Spark costs more
than Spark's own read.

Arrow reads Spark's INT96 timestamps as nanoseconds, which cannot hold dates before 1677 or
after 2262 (0001-01-01 is a valid timestamp): such a table is read by Spark.

What differs: such a frame has no ``_metadata`` column (selecting it is an analysis error)
and ``input_file_name()`` is empty in it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from lakehouse.engine.settings import EngineSettings
from lakehouse.engine.storage.delta_table import LocalDeltaTable

DEFAULT_MAX_ROWS = EngineSettings.driver_read_max_rows


def read_delta(
    spark: SparkSession,
    table: LocalDeltaTable,
    *,
    streaming: bool,
    options: Mapping[str, str] | None = None,
    max_driver_rows: int = DEFAULT_MAX_ROWS,
) -> DataFrame:
    """``table`` as a DataFrame (a stream when ``streaming``): read by delta-rs when it is
    small (see above), by Spark otherwise.

    Example:
        >>> users = LocalDeltaTable(Path("/lh/catalog/main/crm/users"))
        >>> read_delta(spark, users, streaming=False).count()  # doctest: +SKIP
        42
    """
    if not streaming and not options:
        small = _small_table(spark, table, max_driver_rows)
        if small is not None:
            return small
    return table.to_spark(spark, streaming=streaming, options=options)


def _small_table(spark: SparkSession, table: LocalDeltaTable, max_rows: int) -> DataFrame | None:
    if max_rows <= 0 or not table.exists():
        return None
    snapshot = table.delta_rs()
    if snapshot.protocol().min_reader_version != 1:
        return None
    count = table.row_count(snapshot)
    if count is None or count > max_rows:  # no statistics: unknown size
        return None
    schema = table.spark_schema(snapshot)
    try:
        rows = snapshot.to_pyarrow_table(columns=schema.fieldNames())
    except pa.ArrowInvalid:  # e.g. Spark's INT96 timestamps before 1677 or after 2262
        return None
    if rows.num_rows == 0:  # Spark cannot take an empty Arrow table with nested columns
        return spark.createDataFrame([], schema=schema)
    return spark.createDataFrame(rows, schema=schema)

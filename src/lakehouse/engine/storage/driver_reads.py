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

import json
from collections.abc import Mapping
from pathlib import Path

import deltalake
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from lakehouse.engine.settings import EngineSettings
from lakehouse.engine.storage.delta_log import delta_version

DEFAULT_MAX_ROWS = EngineSettings.driver_read_max_rows


def read_delta(
    spark: SparkSession,
    table: Path,
    *,
    streaming: bool,
    options: Mapping[str, str] | None = None,
    max_driver_rows: int = DEFAULT_MAX_ROWS,
) -> DataFrame:
    """The Delta table at ``table`` as a DataFrame (a stream when ``streaming``): read by
    delta-rs when it is small (see above), by Spark otherwise.

    Example:
        >>> read_delta(spark, Path("/lh/catalog/main/crm/users"), streaming=False).count()  # doctest: +SKIP
        42
    """
    if not streaming and not options:
        small = _small_table(spark, table, max_driver_rows)
        if small is not None:
            return small
    source = spark.readStream if streaming else spark.read
    return source.format("delta").options(**(options or {})).load(str(table))


def _small_table(spark: SparkSession, table: Path, max_rows: int) -> DataFrame | None:
    if max_rows <= 0 or delta_version(table) < 0:
        return None
    delta = deltalake.DeltaTable(str(table))
    if delta.protocol().min_reader_version != 1:
        return None
    counts = pa.table(delta.get_add_actions(flatten=True)).column("num_records")
    if counts.null_count or sum(counts.to_pylist()) > max_rows:  # no statistics: unknown size
        return None
    schema = StructType.fromJson(json.loads(delta.schema().to_json()))
    try:
        rows = delta.to_pyarrow_table(columns=schema.fieldNames())
    except pa.ArrowInvalid:  # e.g. Spark's INT96 timestamps before 1677 or after 2262
        return None
    if rows.num_rows == 0:  # Spark cannot take an empty Arrow table with nested columns
        return spark.createDataFrame([], schema=schema)
    return spark.createDataFrame(rows, schema=schema)

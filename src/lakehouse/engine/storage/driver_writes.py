"""When a write goes through delta-rs in the driver instead of a Spark job.

Spark's Delta writes cost about a second of fixed planning and job overhead each, whatever
their size, and a Spark read of a table that changed since its last read rebuilds the table's
snapshot. For the small writes of incremental and continuous updates (a micro-batch of a few
files, a gold table of a few rows) that overhead is nearly all the time. So the engine collects
the rows Spark computed as Arrow and commits them with delta-rs, in milliseconds, when:

- the table's protocol is one delta-rs writes as Spark would (reader 1, writer up to 4: CHECK
  constraints, generated columns and the change data feed included; not deletion vectors,
  column mapping, clustering or other table features), and
- the write is small: a micro-batch whose input Spark estimates at most
  ``lakehouse.driverWrite.maxBatchBytes`` (default 128 MiB), or a materialized view holding at
  most ``lakehouse.driverWrite.maxViewRows`` rows (default 100,000). Both are settings of the
  pipeline's configuration. An AUTO CDC micro-batch of at most
  ``lakehouse.driverWrite.maxPythonBytes`` (default 1 MiB) is also computed in Python
  (``Placement``).

Otherwise Spark writes. The commits are the same either way (actions, transaction ids, change
data feed), so either writer can follow the other.

A streaming table's first run over inputs of more than ``lakehouse.sparkSink.minBackfillBytes``
(default 1 MiB) is a backfill: its batches are large, and Spark's own Delta sink appends them
about 0.15 s faster per table than a ``foreachBatch`` function that then hands each batch to a
Spark write (``backfill_sink``). Its commits carry the same transaction ids.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from py4j.protocol import Py4JError
from pyspark.sql import DataFrame

from lakehouse.engine.sources.auto_loader import landed_files
from lakehouse.engine.spark_connect import explained_size_bytes, is_connect
from lakehouse.engine.storage.delta_table import LocalDeltaTable


class Placement(Enum):
    """Where an AUTO CDC micro-batch's rows are computed, and which writer commits them."""

    PYTHON = "computed in Python in the driver, committed by delta-rs"
    DELTA_RS = "computed by Spark, collected to the driver, committed by delta-rs"
    SPARK = "computed and committed by Spark"


def small_batch(batch: DataFrame, table: LocalDeltaTable, max_bytes: int) -> bool:
    """Whether micro-batch ``batch`` into ``table`` is written in the driver: its input is at
    most ``max_bytes`` (``estimated_bytes``) and delta-rs writes the table.

    Example:
        >>> orders = LocalDeltaTable(Path("/lh/catalog/main/sales/orders"))
        >>> small_batch(batch, orders, 128 * 1024 * 1024)  # doctest: +SKIP
        True
    """
    return estimated_bytes(batch) <= max_bytes and table.delta_rs_writes()


def estimated_bytes(batch: DataFrame) -> int:
    """The size of ``batch``'s input as Spark estimates it without running a job: the size of
    its files, scaled by the columns kept.

    Example:
        >>> estimated_bytes(batch)  # doctest: +SKIP
        144485
    """
    if is_connect(batch):
        return explained_size_bytes(batch)
    return int(batch._jdf.queryExecution().optimizedPlan().stats().sizeInBytes())


def backfill_sink(stream: DataFrame, checkpoint: Path, min_bytes: int) -> bool:
    """Whether Spark's own Delta sink appends ``stream``: its first run (no offsets in its
    ``checkpoint`` yet) over sources holding more than ``min_bytes`` (``source_bytes``).

    Example:
        >>> backfill_sink(events, Path("/lh/pipelines/p/checkpoints/bronze"), 8 * 1024 * 1024)  # doctest: +SKIP
        True
    """
    if any((checkpoint / "offsets").glob("[0-9]*")):
        return False
    size = source_bytes(stream)
    return size is not None and size > min_bytes


def source_bytes(stream: DataFrame) -> int | None:
    """The bytes the sources of streaming query ``stream`` hold: the files a file source
    reads (``auto_loader.landed_files``: hidden names left out), a Delta table's live files;
    None when a source is neither (Spark's rate or Kafka sources).

    Example:
        >>> source_bytes(spark.readStream.format("json").schema(schema).load("/landing/orders"))  # doctest: +SKIP
        25165824
    """
    if is_connect(stream):  # the plan's sources are out of reach: unknown
        return None
    try:
        leaves = stream._jdf.queryExecution().analyzed().collectLeaves()
        sources = []
        for leaf in (leaves.apply(i) for i in range(leaves.size())):
            if leaf.nodeName() != "StreamingRelation":
                return None
            path = leaf.dataSource().options().get("path")
            if path.isEmpty():
                return None
            sources.append((leaf.dataSource().className(), path.get().removeprefix("file:")))
    except Py4JError:  # a plan of a shape Spark may change: unknown, so the default writer
        return None
    return sum(
        LocalDeltaTable(Path(folder)).live_bytes()
        if kind == "delta"
        else sum(file.stat().st_size for file in landed_files(folder))
        for kind, folder in sources
    )

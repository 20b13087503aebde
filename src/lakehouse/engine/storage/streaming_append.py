"""Appends a streaming table's micro-batches, each exactly once: small ones by delta-rs in the
driver, the others by Spark (``driver_writes.py`` says which).

Both commits carry the transaction Spark's own Delta sink commits: the stream's id (from its
checkpoint) and the batch id. So a micro-batch replayed after a crash is appended once, whichever
of the three wrote it first (a large first run goes through Spark's sink, ``backfill_sink``), and
a stream started over from a new checkpoint is not mistaken for a replay. New columns are added
to the table, as streaming tables take them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame

from lakehouse.engine.storage.delta_table import LocalDeltaTable
from lakehouse.engine.storage.driver_writes import small_batch


@dataclass(frozen=True)
class StreamingAppend:
    """The ``foreachBatch`` function that appends a streaming flow's micro-batches to its table.

    Example:
        >>> append = StreamingAppend(LocalDeltaTable(Path("/lh/catalog/main/sales/orders")),
        ...                          Path("/lh/pipelines/p/checkpoints/orders/orders"),
        ...                          max_driver_bytes=128 * 1024 * 1024)
        >>> frame.writeStream.foreachBatch(append).start()  # doctest: +SKIP
    """

    table: LocalDeltaTable
    checkpoint: Path
    max_driver_bytes: int
    app_suffix: str = ""  # for batches of the same checkpoint numbered apart from the stream's

    @property
    def app_id(self) -> str:
        # Written by Spark when the stream first starts, before its first micro-batch.
        stream_id = json.loads((self.checkpoint / "metadata").read_text())["id"]
        return f"{stream_id}{self.app_suffix}"

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        app_id = self.app_id
        # A replay of a batch committed before a crash, by any writer; the engine's earlier
        # releases committed under the second name.
        replay = self.table.committed(batch_id, app_id, f"lakehouse:{app_id}")
        if small_batch(batch, self.table, self.max_driver_bytes):
            # Computed even when replayed: a caller may wait on the batch's observations.
            rows = batch.toArrow()
            if not replay:  # delta-rs keeps the table's partitioning when none is given
                self.table.append_in_transaction(rows, app_id, batch_id, schema_mode="merge")
            return
        if replay:
            return
        (
            batch.write.format("delta")
            .mode("append")
            .option("mergeSchema", "true")
            .option("txnAppId", app_id)
            .option("txnVersion", str(batch_id))
            .save(str(self.table.path))
        )

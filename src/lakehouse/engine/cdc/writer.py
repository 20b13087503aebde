"""Runs an AUTO CDC flow: each micro-batch of its source becomes change events that SCD type
1 (``scd1_merge.py``) or type 2 (``scd2_merge.py``) applies to the target.

State beside the target lives under ``<pipeline state>/auto_cdc/<target>``, shared by every
AUTO CDC flow into that target; a full refresh of the target removes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame

from lakehouse.engine.cdc.events import ChangeBatch, ResolvedAutoCdc, change_events
from lakehouse.engine.cdc.scd1_merge import scd1_apply
from lakehouse.engine.cdc.scd2_merge import scd2_apply
from lakehouse.engine.storage.delta_table import LocalDeltaTable
from lakehouse.engine.storage.driver_writes import Placement, estimated_bytes
from lakehouse.engine.storage.local_files import write_atomically


@dataclass
class AutoCdcWriter:
    """The ``foreachBatch`` function of one AUTO CDC flow; it sums what each batch did.

    Example:
        >>> writer = AutoCdcWriter(resolved, target_table, state_dir, "lakehouse:crm:users",
        ...                        max_driver_bytes=128 * 1024 * 1024,
        ...                        max_python_bytes=1024 * 1024)
        >>> frame.writeStream.foreachBatch(writer).start()  # doctest: +SKIP
    """

    cdc: ResolvedAutoCdc
    target: LocalDeltaTable
    state: Path  # a folder of state tables
    app_id: str  # state appends carry it, with the batch id
    max_driver_bytes: int
    max_python_bytes: int
    # Set for a streaming flow: foreachBatch may run in another process (a Spark Connect
    # server's Python worker), where ``metrics`` are out of the engine's sight, so each batch's
    # also go to a file here (``streamed_metrics`` reads them back).
    batch_metrics: Path | None = None
    metrics: dict[str, int] = field(default_factory=dict)

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        placement = self.placement(batch)
        events = change_events(batch, self.cdc)
        if placement is not Placement.PYTHON:  # Spark reads the events more than once
            events = events.persist()
        changes = ChangeBatch(events, batch_id, self.app_id, placement)
        try:
            if self.cdc.scd_type == 1:
                applied_keys = LocalDeltaTable(self.state / "keys")
                done = scd1_apply(changes, self.cdc, self.target, applied_keys)
            else:
                event_store = LocalDeltaTable(self.state / "events")
                done = scd2_apply(changes, self.cdc, self.target, event_store)
        finally:
            events.unpersist()
        if self.batch_metrics is not None:  # a replayed batch writes its file again
            write_atomically(self.batch_metrics / f"{batch_id}.json", json.dumps(done))
        for name, value in done.items():
            self.metrics[name] = self.metrics.get(name, 0) + value

    def streamed_metrics(self, batch_ids: Iterable[int]) -> dict[str, int]:
        """The summed metrics of micro-batches ``batch_ids``, from their files; the files of
        those batches and earlier ones are removed, as nothing reads them again.

        Example:
            >>> writer.streamed_metrics([0, 1])  # doctest: +SKIP
            {'num_upserted_rows': 42, 'num_deleted_rows': 1}
        """
        assert self.batch_metrics is not None
        ids = set(batch_ids)
        totals: dict[str, int] = {}
        for file in sorted(self.batch_metrics.glob("[0-9]*.json")):
            batch_id = int(file.stem)
            if batch_id in ids:
                for name, value in json.loads(file.read_text()).items():
                    totals[name] = totals.get(name, 0) + value
            if batch_id <= max(ids, default=-1):
                file.unlink()
        return totals

    def placement(self, batch: DataFrame) -> Placement:
        """Where ``batch`` is computed and written: by its estimated size and the target's
        protocol (``driver_writes.py``)."""
        size = estimated_bytes(batch)
        if size > self.max_driver_bytes or not self.target.delta_rs_writes():
            return Placement.SPARK
        return Placement.PYTHON if size <= self.max_python_bytes else Placement.DELTA_RS

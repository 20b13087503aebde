"""Runs an AUTO CDC flow: each micro-batch of its source becomes change events that SCD type
1 (``scd1_merge.py``) or type 2 (``scd2_merge.py``) applies to the target.

State beside the target lives under ``<pipeline state>/auto_cdc/<target>``, shared by every
AUTO CDC flow into that target; a full refresh of the target removes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame

from lakehouse.engine.cdc.events import ChangeBatch, ResolvedAutoCdc, change_events
from lakehouse.engine.cdc.scd1_merge import scd1_apply
from lakehouse.engine.cdc.scd2_merge import scd2_apply
from lakehouse.engine.storage.delta_table import LocalDeltaTable
from lakehouse.engine.storage.driver_writes import Placement, estimated_bytes


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
        for name, value in done.items():
            self.metrics[name] = self.metrics.get(name, 0) + value

    def placement(self, batch: DataFrame) -> Placement:
        """Where ``batch`` is computed and written: by its estimated size and the target's
        protocol (``driver_writes.py``)."""
        size = estimated_bytes(batch)
        if size > self.max_driver_bytes or not self.target.delta_rs_writes():
            return Placement.SPARK
        return Placement.PYTHON if size <= self.max_python_bytes else Placement.DELTA_RS

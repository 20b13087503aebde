"""Runs an AUTO CDC flow: each micro-batch of its source becomes change events that SCD type
1 (``scd1_merge.py``) or type 2 (``scd2_merge.py``) applies to the target.

State beside the target lives under ``<pipeline state>/auto_cdc/<target>``, shared by every
AUTO CDC flow into that target; a full refresh of the target removes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame

from lakehouse.engine.change_events import ResolvedAutoCdc, change_events
from lakehouse.engine.driver_writes import small_batch
from lakehouse.engine.scd1_merge import scd1_apply
from lakehouse.engine.scd2_merge import scd2_apply


@dataclass
class AutoCdcWriter:
    """The ``foreachBatch`` function of one AUTO CDC flow; it sums what each batch did.

    Example:
        >>> writer = AutoCdcWriter(resolved, target_path, state_dir, "lakehouse:crm:users",
        ...                        max_driver_bytes=128 * 1024 * 1024)
        >>> frame.writeStream.foreachBatch(writer).start()  # doctest: +SKIP
    """

    cdc: ResolvedAutoCdc
    target: Path
    state: Path
    app_id: str
    max_driver_bytes: int
    metrics: dict[str, int] = field(default_factory=dict)

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        session = batch.sparkSession
        in_driver = small_batch(batch, self.target, self.max_driver_bytes)
        events = change_events(batch, self.cdc).persist()
        try:
            if self.cdc.scd_type == 1:
                done = scd1_apply(
                    session, events, self.cdc, self.target, self.state / "keys", in_driver
                )
            else:
                done = scd2_apply(
                    session,
                    events,
                    self.cdc,
                    self.target,
                    self.state / "events",
                    self.app_id,
                    batch_id,
                    in_driver,
                )
        finally:
            events.unpersist()
        for name, value in done.items():
            self.metrics[name] = self.metrics.get(name, 0) + value

"""The pipeline event log: a Delta table ``event_log`` in the pipeline's target schema, shaped
like Databricks' event log so the same queries work on both.

Events are appended as they happen (after set-up, after each flow, at the end), so a run that
dies still leaves its history. They are written with delta-rs rather than a Spark job: an
append costs milliseconds, and the table is plain Delta (reader 1, writer 2) that Spark reads.

Example:
    >>> # lakehouse sql --storage .lakehouse "SELECT get_json_object(details,
    >>> #   '$.flow_progress.metrics.num_output_rows') FROM main.sales.event_log"
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa

from lakehouse.engine.observability.event_hooks import EventHooks
from lakehouse.engine.observability.redaction import redacted
from lakehouse.engine.storage.delta_table import LocalDeltaTable

ORIGIN = pa.struct(
    [
        ("pipeline_name", pa.string()),
        ("update_id", pa.string()),
        ("flow_name", pa.string()),
        ("dataset_name", pa.string()),
        ("pipeline_id", pa.string()),
    ]
)
EVENT_LOG_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("level", pa.string(), nullable=False),
        pa.field("maturity_level", pa.string()),
        pa.field("message", pa.string()),
        pa.field("origin", ORIGIN),
        pa.field("error", pa.string()),
        pa.field("details", pa.string()),
    ]
)


@dataclass
class EventLog:
    """Events of one update; ``flush`` appends the ones not written yet.

    Example:
        >>> log = EventLog("sales", Path("/lh/catalog/main/sales/event_log"))
        >>> log.update_progress("RUNNING"); log.flush()  # doctest: +SKIP
    """

    pipeline_name: str
    path: Path
    update_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    pending: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # messages of the WARN events
    hooks: EventHooks | None = None  # the pipeline's @on_event_hook functions, once loaded
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _hook_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def pipeline_id(self) -> str:
        """The pipeline's id: stable across updates, as Databricks' is (from its name here)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lakehouse-pipeline:{self.pipeline_name}"))

    def emit(
        self,
        event_type: str,
        message: str,
        details: dict[str, Any],
        *,
        level: str = "INFO",
        flow: str | None = None,
        dataset: str | None = None,
        error: str | None = None,
    ) -> None:
        event = {
            "id": str(uuid.uuid4()),
            "timestamp": datetime.now(timezone.utc),
            "event_type": event_type,
            "level": level,
            "maturity_level": "STABLE",
            "message": redacted(message),
            "origin": {
                "pipeline_name": self.pipeline_name,
                "update_id": self.update_id,
                "flow_name": flow,
                "dataset_name": dataset,
                "pipeline_id": self.pipeline_id,
            },
            "error": error and redacted(error),
            "details": redacted(json.dumps({event_type: details})),
        }
        with self._lock:
            self.pending.append(event)
            if level == "WARN":
                self.warnings.append(event["message"])
        if self.hooks is not None and event_type != "hook_progress":
            self._run_hooks(event)

    def attach_hooks(self, hooks: EventHooks) -> None:
        """Call ``hooks`` with every event from now on, and with those already emitted."""
        self.hooks = hooks
        with self._lock:
            earlier = list(self.pending)
        for event in earlier:
            self._run_hooks(event)

    def _run_hooks(self, event: dict[str, Any]) -> None:
        assert self.hooks is not None
        with self._hook_lock:  # one hook at a time, as Databricks runs them
            self.hooks.run({**event, "details": json.loads(event["details"])}, self._hook_progress)

    def _hook_progress(self, message: str, status: str, details: dict[str, Any]) -> None:
        self.emit(
            "hook_progress", message, details, level="ERROR" if status == "DISABLED" else "WARN"
        )

    def flow_progress(self, flow: str, dataset: str, status: str, **extra: Any) -> None:
        self.emit(
            "flow_progress",
            f"Flow '{flow}' is {status}.",
            {"status": status, **extra},
            level="ERROR" if status == "FAILED" else "INFO",
            flow=flow,
            dataset=dataset,
            error=extra.get("error"),
        )

    def update_progress(self, state: str, error: str | None = None) -> None:
        self.emit(
            "update_progress",
            f"Update {self.update_id[:8]} is {state}.",
            {"state": state},
            level="ERROR" if error else "INFO",
            error=error,
        )

    def flush(self) -> None:
        """Append the events emitted since the last flush, in one Delta commit."""
        with self._lock:
            if not self.pending:
                return
            events, self.pending = self.pending, []
            batch = pa.Table.from_pylist(events, schema=EVENT_LOG_SCHEMA)
            # merge: a log written before a field joined ``origin`` takes the new field
            LocalDeltaTable(self.path).append(batch, schema_mode="merge")

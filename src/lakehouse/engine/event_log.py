"""The pipeline event log: a Delta table ``event_log`` in the pipeline's target schema, shaped
like Databricks' event log so the same queries work on both.

Example:
    >>> # lakehouse sql --storage .lakehouse "SELECT details:flow_progress.metrics.num_output_rows
    >>> #   FROM main.sales.event_log WHERE event_type = 'flow_progress'"
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql.types import StringType, StructField, StructType, TimestampType

ORIGIN_SCHEMA = StructType(
    [
        StructField("pipeline_name", StringType()),
        StructField("update_id", StringType()),
        StructField("flow_name", StringType()),
        StructField("dataset_name", StringType()),
    ]
)
EVENT_LOG_SCHEMA = StructType(
    [
        StructField("id", StringType(), nullable=False),
        StructField("timestamp", TimestampType(), nullable=False),
        StructField("event_type", StringType(), nullable=False),
        StructField("level", StringType(), nullable=False),
        StructField("maturity_level", StringType()),
        StructField("message", StringType()),
        StructField("origin", ORIGIN_SCHEMA),
        StructField("error", StringType()),
        StructField("details", StringType()),
    ]
)


@dataclass
class EventLog:
    """Events of one update, kept in order and appended to the Delta table in one commit."""

    pipeline_name: str
    update_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    events: list[tuple[Any, ...]] = field(default_factory=list)

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
        self.events.append(
            (
                str(uuid.uuid4()),
                datetime.now(timezone.utc).replace(tzinfo=None),
                event_type,
                level,
                "STABLE",
                message,
                (self.pipeline_name, self.update_id, flow, dataset),
                error,
                json.dumps({event_type: details}),
            )
        )

    def flow_progress(self, flow: str, dataset: str, status: str, **extra: Any) -> None:
        level = "ERROR" if status == "FAILED" else "INFO"
        self.emit(
            "flow_progress",
            f"Flow '{flow}' is {status}.",
            {"status": status, **extra},
            level=level,
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

    def write(self, spark: SparkSession, path: str) -> None:
        """Append the events gathered so far; they are not written twice."""
        if not self.events:
            return
        frame = spark.createDataFrame(self.events, EVENT_LOG_SCHEMA)
        frame.write.format("delta").mode("append").save(path)
        self.events = []

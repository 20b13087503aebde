"""Reading a pipeline's event log (``engine/observability/event_log.py``) for operations: its
updates as they went, and the graph its last analysis declared (``dataset_definition`` and
``flow_definition`` events, as Databricks' event log has them for lineage).

The log is read once per pipeline (``read_events``); the other functions work on the events.

Example:
    >>> events = read_events(LocalCatalog(Path(".lakehouse")),
    ...                      TableName("dev_gold", "sales", "event_log"))  # doctest: +SKIP
    >>> [u.state for u in update_history(events)]  # doctest: +SKIP
    ['COMPLETED', 'COMPLETED']
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.platform.domains import Domain

EVENT_LOG = "event_log"  # the table's name in each pipeline's target schema
_ENDED = ("COMPLETED", "FAILED", "CANCELED")


@dataclass(frozen=True)
class Event:
    """One event log row, its details parsed."""

    timestamp: dt.datetime
    event_type: str
    level: str
    message: str
    pipeline: str
    update_id: str
    flow: str | None
    dataset: str | None
    details: dict[str, Any]  # the event type's own object, e.g. flow_progress's


@dataclass(frozen=True)
class UpdateRecord:
    """One update as the event log tells it.

    Example:
        >>> str(record)  # doctest: +SKIP
        'sales_gold 3a62e722: COMPLETED in 4.2s, 46 rows'
    """

    pipeline: str
    update_id: str
    started_at: dt.datetime
    ended_at: dt.datetime | None  # None while running (or when the process died)
    state: str  # the last update_progress state: COMPLETED, FAILED, CANCELED, RUNNING, ...
    full_refresh: bool
    refresh_selection: tuple[str, ...]
    rows_written: int  # by its completed flows
    error: str | None

    @property
    def seconds(self) -> float | None:
        return None if self.ended_at is None else (self.ended_at - self.started_at).total_seconds()

    def __str__(self) -> str:
        took = "" if self.seconds is None else f" in {self.seconds:.1f}s"
        return f"{self.pipeline} {self.update_id[:8]}: {self.state}{took}, {self.rows_written} rows"


@dataclass(frozen=True)
class DeclaredFlow:
    """A flow of the pipeline graph: what it reads and the dataset it writes."""

    name: str
    output: str
    inputs: tuple[str, ...]  # this pipeline's datasets and other tables, fully qualified
    flow_type: str  # APPEND, COMPLETE or CHANGE


@dataclass(frozen=True)
class DeclaredGraph:
    """The datasets (name -> dataset type) and flows one update declared."""

    datasets: dict[str, str]
    flows: tuple[DeclaredFlow, ...]


def read_events(catalog: LocalCatalog, event_log: TableName) -> list[Event]:
    """Every event of one event log, oldest first; none when there is no such table.

    Example:
        >>> len(read_events(catalog, TableName("dev_bronze", "crm", "event_log")))  # doctest: +SKIP
        42
    """
    if not catalog.exists(event_log):
        return []
    table = catalog.table(event_log)
    present = set(table.delta_rs().schema().to_arrow().names)
    columns = [c for c in ("timestamp", "event_type", "level", "message", "origin", "details") if c in present]  # fmt: skip
    return events_from_rows(table.read_arrow(columns).to_pylist())


def events_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Event]:
    """Event log rows (``origin`` a struct, ``details`` JSON text), as a local or a workspace
    event log holds them, as events, oldest first.

    Example:
        >>> events_from_rows(spark.table("prod_bronze.crm.event_log").collect())  # doctest: +SKIP
    """
    events = []
    for row in rows:
        origin = row.get("origin") or {}
        details = json.loads(row.get("details") or "{}")
        events.append(
            Event(
                timestamp=row["timestamp"],
                event_type=row["event_type"],
                level=row.get("level") or "INFO",
                message=row.get("message") or "",
                pipeline=origin.get("pipeline_name") or "",
                update_id=origin.get("update_id") or "",
                flow=origin.get("flow_name"),
                dataset=origin.get("dataset_name"),
                details=details.get(row["event_type"]) or {},
            )
        )
    return sorted(events, key=lambda e: e.timestamp)


def pipeline_event_logs(domain: Domain, env: str, schema_prefix: str = "") -> list[str]:
    """The event logs of a domain's pipelines: each source system's ingestion, then its gold.

    Example:
        >>> pipeline_event_logs(Domain(Path("domains/sales")), "prod")  # doctest: +SKIP
        ['prod_bronze.crm.event_log', 'prod_gold.sales.event_log']
    """
    ingestion = [f"{env}_bronze.{schema_prefix}{ss}.{EVENT_LOG}" for ss in domain.source_systems]
    return [*ingestion, f"{env}_gold.{schema_prefix}{domain.name}.{EVENT_LOG}"]


def update_history(events: list[Event]) -> list[UpdateRecord]:
    """Every update of the events, oldest first, with its last state.

    Example:
        >>> [str(u) for u in update_history(events)][-1]  # doctest: +SKIP
        'crm_ingestion 9e0b1c2d: COMPLETED in 6.1s, 178 rows'
    """
    updates: dict[str, dict[str, Any]] = {}
    for event in events:
        if not event.update_id:
            continue
        # An update starts with create_update; a log cut short may begin later in it.
        update = updates.setdefault(event.update_id, {
            "pipeline": event.pipeline, "started_at": event.timestamp, "state": "CREATED",
            "ended_at": None, "full_refresh": False, "refresh_selection": (),
            "rows_written": 0, "error": None,
        })  # fmt: skip
        if event.event_type == "create_update":
            update["full_refresh"] = bool(event.details.get("full_refresh"))
            update["refresh_selection"] = tuple(event.details.get("refresh_selection") or ())
        if event.event_type == "update_progress":
            update["state"] = event.details.get("state") or update["state"]
            if update["state"] in _ENDED:
                update["ended_at"] = event.timestamp
            if update["state"] == "FAILED":
                update["error"] = event.message
        elif event.event_type == "flow_progress" and event.details.get("status") == "COMPLETED":
            metrics = event.details.get("metrics") or {}
            update["rows_written"] += int(metrics.get("num_output_rows") or 0)
    return [UpdateRecord(update_id=key, **fields) for key, fields in updates.items()]


def declared_graph(events: list[Event]) -> DeclaredGraph:
    """The graph the newest update that analyzed the pipeline declared (empty when none did).

    Example:
        >>> declared_graph(events).datasets  # doctest: +SKIP
        {'dev_gold.sales.daily_revenue': 'materialized_view', ...}
    """
    defining = [e for e in events if e.event_type in ("dataset_definition", "flow_definition")]
    if not defining:
        return DeclaredGraph({}, ())
    newest = defining[-1].update_id
    datasets, flows = {}, []
    for event in defining:
        if event.update_id != newest:
            continue
        if event.event_type == "dataset_definition":
            datasets[event.dataset or ""] = str(event.details.get("dataset_type") or "table")
        else:
            flows.append(
                DeclaredFlow(
                    name=event.flow or "",
                    output=str(event.details.get("output_dataset") or event.dataset or ""),
                    inputs=tuple(event.details.get("input_datasets") or ()),
                    flow_type=str(event.details.get("flow_type") or ""),
                )
            )
    return DeclaredGraph(datasets, tuple(flows))

"""Data-quality trends from the pipelines' event logs: for every completed update, each
expectation's passed and failed records, and each contract dataset's row conservation and
quarantine rate, kept in two Delta tables beside the freshness checks:

- ``<env>_bronze.monitoring.expectations``: one row per update, dataset and expectation;
- ``<env>_bronze.monitoring.conservation``: one row per ingestion update and dataset (bronze
  rows = silver + quarantined + dropped, ``ingestion/conservation.py``).

Each run adds the updates the tables do not hold yet, so it can run after every update or once
a day. The event log's shape is Databricks' (``flow_progress`` events with ``metrics`` and
``data_quality``), so the same reading serves a workspace's event logs.

Example:
    >>> recorded = record_quality(domains, Path(".lakehouse"))  # doctest: +SKIP
    >>> recorded.updates, recorded.conservation[0].holds  # doctest: +SKIP
    (3, True)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from lakehouse.engine.execution.flow_runner import FlowResult
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.run import UpdateResult
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.ingestion.conservation import RowConservation, row_conservation
from lakehouse.platform.domains import Domain

EVENT_LOG = "event_log"
EXPECTATIONS_TABLE = "monitoring.expectations"  # in each environment's bronze catalog
CONSERVATION_TABLE = "monitoring.conservation"


@dataclass(frozen=True)
class LoggedUpdate:
    """A completed update as its event log tells it."""

    result: UpdateResult
    finished_at: dt.datetime


@dataclass
class QualityRecord:
    """What one run added to the trends tables: how many updates, and their rows."""

    updates: int = 0
    expectations: list[dict[str, Any]] = field(default_factory=list)
    conservation: list[dict[str, Any]] = field(default_factory=list)

    @property
    def not_conserved(self) -> list[str]:
        """The conservation checks that did not hold, as sentences."""
        return [row["summary"] for row in self.conservation if not row["holds"]]


def logged_updates(catalog: LocalCatalog, event_log: TableName) -> list[LoggedUpdate]:
    """The completed updates of one event log, oldest first, with each flow's metrics.

    Example:
        >>> [u.result.update_id for u in logged_updates(catalog, TableName("dev_bronze", "crm", "event_log"))]  # doctest: +SKIP
    """
    if not catalog.exists(event_log):
        return []
    rows = catalog.table(event_log).read_arrow(["timestamp", "event_type", "origin", "details"])
    flows: dict[str, list[FlowResult]] = {}
    finished: dict[str, tuple[str, dt.datetime]] = {}
    for row in rows.to_pylist():
        origin, details = row["origin"] or {}, json.loads(row["details"] or "{}")
        update = origin.get("update_id")
        if row["event_type"] == "update_progress":
            if details.get("update_progress", {}).get("state") == "COMPLETED":
                finished[update] = (origin.get("pipeline_name") or "", row["timestamp"])
        elif row["event_type"] == "flow_progress":
            progress = details.get("flow_progress", {})
            if progress.get("status") != "COMPLETED":
                continue
            metrics = progress.get("metrics") or {}
            quality = progress.get("data_quality") or {}
            flows.setdefault(update, []).append(
                FlowResult(
                    flow=origin.get("flow_name") or "",
                    dataset=origin.get("dataset_name") or "",
                    num_output_rows=int(metrics.get("num_output_rows") or 0),
                    dropped_records=int(quality.get("dropped_records") or 0),
                    expectations=list(quality.get("expectations") or []),
                    cdc_metrics={k: int(v) for k, v in metrics.items() if k != "num_output_rows"},
                )
            )
    updates = [
        LoggedUpdate(UpdateResult(update, pipeline, flows.get(update, []), {}, 0.0), at)
        for update, (pipeline, at) in finished.items()
    ]
    return sorted(updates, key=lambda u: u.finished_at)


def record_quality(domains: Iterable[Domain], storage: Path, *, env: str = "dev") -> QualityRecord:
    """Add every completed update of ``domains``' event logs (their source systems'
    ingestion and their gold) that the trends tables do not hold yet.

    Example:
        >>> record_quality(find_domains(), Path(".lakehouse")).updates  # doctest: +SKIP
        2
    """
    catalog = LocalCatalog(storage)
    tables = {name: TableName.parse(f"{env}_bronze.{name}", "", "") for name in (EXPECTATIONS_TABLE, CONSERVATION_TABLE)}  # fmt: skip
    known = set().union(*(_recorded_updates(catalog, t) for t in tables.values()))
    record = QualityRecord()
    for domain in domains:
        contracts = domain.contracts
        logs = {TableName(f"{env}_bronze", ss, EVENT_LOG): [c for c in contracts if c.source_system == ss] for ss in domain.source_systems}  # fmt: skip
        logs[TableName(f"{env}_gold", domain.name, EVENT_LOG)] = []  # gold: expectations only
        for log, owned in logs.items():
            for update in logged_updates(catalog, log):
                result = update.result
                if result.update_id in known:
                    continue
                known.add(result.update_id)
                stamp = {"finished_at": update.finished_at, "domain": domain.name,
                         "pipeline": result.pipeline, "update_id": result.update_id}  # fmt: skip
                record.expectations += [
                    {**stamp, "dataset": str(entry.get("dataset") or flow.dataset),
                     "expectation": str(entry.get("name")),
                     "passed_records": int(entry.get("passed_records") or 0),
                     "failed_records": int(entry.get("failed_records") or 0)}
                    for flow in result.flows
                    for entry in flow.expectations
                ]  # fmt: skip
                record.conservation += [
                    _conservation_row(stamp, row_conservation(result, c, env)) for c in owned
                ]
    record.updates = len({row["update_id"] for row in [*record.expectations, *record.conservation]})  # fmt: skip
    _append(catalog, tables[EXPECTATIONS_TABLE], record.expectations, _EXPECTATIONS_SCHEMA)
    _append(catalog, tables[CONSERVATION_TABLE], record.conservation, _CONSERVATION_SCHEMA)
    return record


def _conservation_row(stamp: dict[str, Any], check: RowConservation) -> dict[str, Any]:
    received = check.silver + check.quarantined
    return {
        **stamp, "dataset": check.dataset, "bronze_rows": check.bronze,
        "silver_rows": check.silver, "quarantined_rows": check.quarantined,
        "dropped_rows": check.dropped, "holds": check.holds,
        "quarantine_rate": check.quarantined / received if received else 0.0,
        "summary": str(check),
    }  # fmt: skip


_TIME = pa.timestamp("us", tz="UTC")
_EXPECTATIONS_SCHEMA = pa.schema([
    ("finished_at", _TIME), ("domain", pa.string()), ("pipeline", pa.string()),
    ("update_id", pa.string()), ("dataset", pa.string()), ("expectation", pa.string()),
    ("passed_records", pa.int64()), ("failed_records", pa.int64()),
])  # fmt: skip
_CONSERVATION_SCHEMA = pa.schema([
    ("finished_at", _TIME), ("domain", pa.string()), ("pipeline", pa.string()),
    ("update_id", pa.string()), ("dataset", pa.string()), ("bronze_rows", pa.int64()),
    ("silver_rows", pa.int64()), ("quarantined_rows", pa.int64()), ("dropped_rows", pa.int64()),
    ("holds", pa.bool_()), ("quarantine_rate", pa.float64()), ("summary", pa.string()),
])  # fmt: skip


def _recorded_updates(catalog: LocalCatalog, table: TableName) -> set[str]:
    if not catalog.exists(table):
        return set()
    ids = catalog.table(table).read_arrow(columns=["update_id"])
    return set(ids.column("update_id").to_pylist())


def _append(
    catalog: LocalCatalog, name: TableName, rows: list[dict[str, Any]], schema: pa.Schema
) -> None:
    if rows:
        table = catalog.table(name)
        table.path.mkdir(parents=True, exist_ok=True)
        table.append(pa.Table.from_pylist(rows, schema=schema))

"""Data-quality trends from the pipelines' event logs: for every completed update, each
expectation's passed and failed records, and each contract dataset's row conservation and
quarantine rate, kept in two Delta tables beside the freshness checks:

- ``<env>_platform.monitoring.expectations``: one row per update, dataset and expectation;
- ``<env>_platform.monitoring.conservation``: one row per ingestion update and dataset
  (bronze rows = silver + quarantined + dropped, ``ingestion/conservation.py``).

Each run adds the updates the tables do not hold yet, so it can run after every update or once
an hour. A new update whose expectation fails markedly more often than over the updates
before it is a quality drop (``DROP_FACTOR``, ``DROP_POINTS``). The event log's shape is
Databricks' (``flow_progress`` events with ``metrics`` and ``data_quality``), so the same
reading serves a workspace's event logs (``observations.py``).

Example:
    >>> recorded = record_quality(domains, LocalObservations(Path(".lakehouse")))  # doctest: +SKIP
    >>> recorded.updates, recorded.conservation[0].holds  # doctest: +SKIP
    (3, True)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lakehouse.engine.execution.flow_runner import FlowResult
from lakehouse.engine.run import UpdateResult
from lakehouse.ingestion.conservation import RowConservation, row_conservation
from lakehouse.operations.event_logs import Event, pipeline_event_logs
from lakehouse.operations.observations import Observations
from lakehouse.platform.catalogs import monitoring_table
from lakehouse.platform.domains import Domain

EXPECTATIONS_TABLE = "expectations"  # in <env>_platform.monitoring
CONSERVATION_TABLE = "conservation"
# A quality drop: an update's expectation fails at least twice as often as over the (up to ten)
# updates before it, by five percentage points or more, and for ten records or more (a rare
# failure doubling, or one bad record in a small batch, is noise).
DROP_FACTOR = 2.0
DROP_POINTS = 0.05
DROP_MIN_FAILED = 10
BASELINE_UPDATES = 10


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
    drops: list[str] = field(default_factory=list)  # quality drops, as sentences

    @property
    def not_conserved(self) -> list[str]:
        """The conservation checks that did not hold, as sentences."""
        return [row["summary"] for row in self.conservation if not row["holds"]]


def completed_updates(events: list[Event]) -> list[LoggedUpdate]:
    """The completed updates among ``events`` (``Observations.events``), oldest first, with
    each flow's metrics.

    Example:
        >>> completed_updates(read_events(catalog, log))[-1].finished_at  # doctest: +SKIP
    """
    flows: dict[str, list[FlowResult]] = {}
    finished: dict[str, tuple[str, dt.datetime]] = {}
    for event in events:
        details = event.details
        if event.event_type == "update_progress":
            if details.get("state") == "COMPLETED":
                finished[event.update_id] = (event.pipeline, event.timestamp)
        elif event.event_type == "flow_progress" and details.get("status") == "COMPLETED":
            metrics = details.get("metrics") or {}
            quality = details.get("data_quality") or {}
            flows.setdefault(event.update_id, []).append(
                FlowResult(
                    flow=event.flow or "",
                    dataset=event.dataset or "",
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


def record_quality(
    domains: Iterable[Domain], observed: Observations, *, env: str = "dev", schema_prefix: str = ""
) -> QualityRecord:
    """Add every completed update of ``domains``' event logs (their source systems'
    ingestion and their gold) that the trends tables do not hold yet, and find quality drops
    among them.

    Example:
        >>> record_quality(find_domains(), LocalObservations(Path(".lakehouse"))).updates  # doctest: +SKIP
        2
    """
    tables = {name: monitoring_table(env, name) for name in (EXPECTATIONS_TABLE, CONSERVATION_TABLE)}  # fmt: skip
    known = set().union(*(observed.recorded_updates(t) for t in tables.values()))
    record = QualityRecord()
    for domain in domains:
        for log in pipeline_event_logs(domain, env, schema_prefix):
            source_system = log.split(".")[1].removeprefix(schema_prefix)
            owned = [c for c in domain.contracts if log.startswith(f"{env}_bronze.") and c.source_system == source_system]  # fmt: skip
            updates = completed_updates(observed.events(log))
            for index, update in enumerate(updates):
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
                    _conservation_row(stamp, row_conservation(result, c, env, schema_prefix))
                    for c in owned
                ]
                record.drops += quality_drops(updates[max(0, index - BASELINE_UPDATES) : index], update)  # fmt: skip
    record.updates = len({row["update_id"] for row in [*record.expectations, *record.conservation]})  # fmt: skip
    for name, rows, schema in ((EXPECTATIONS_TABLE, record.expectations, _EXPECTATIONS_SCHEMA), (CONSERVATION_TABLE, record.conservation, _CONSERVATION_SCHEMA)):  # fmt: skip
        if rows:
            observed.append(tables[name], pa.Table.from_pylist(rows, schema=schema))
    return record


def quality_drops(before: list[LoggedUpdate], update: LoggedUpdate) -> list[str]:
    """The expectations ``update`` failed markedly more often than the updates ``before`` it
    did on average: at least ``DROP_FACTOR`` times the rate, ``DROP_POINTS`` more, and for at
    least ``DROP_MIN_FAILED`` records.

    Example:
        >>> quality_drops(updates[-11:-1], updates[-1])  # doctest: +SKIP
        ['dev_silver.crm.orders: positive_amount failed 20.0% of 50 records in update 3f2a9c1b, against 1.5% before']
    """
    drops = []
    for (dataset, name), (passed, failed) in expectation_counts(update).items():
        earlier = [
            counts[(dataset, name)]
            for counts in map(expectation_counts, before)
            if (dataset, name) in counts
        ]
        checked = passed + failed
        if not earlier or failed < DROP_MIN_FAILED:
            continue
        baseline = sum(f / (p + f) for p, f in earlier if p + f) / len(earlier)
        rate = failed / checked
        if rate >= DROP_FACTOR * baseline and rate - baseline >= DROP_POINTS:
            drops.append(
                f"{dataset}: {name} failed {rate:.1%} of {checked} records in update "
                f"{update.result.update_id[:8]}, against {baseline:.1%} before"
            )
    return drops


def expectation_counts(update: LoggedUpdate) -> dict[tuple[str, str], tuple[int, int]]:
    """Passed and failed records per (dataset, expectation) in one update, over its flows.

    Example:
        >>> expectation_counts(update)  # doctest: +SKIP
        {('dev_silver.crm.orders', 'positive_amount'): (120, 1)}
    """
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    for flow in update.result.flows:
        for entry in flow.expectations:
            key = (str(entry.get("dataset") or flow.dataset), str(entry.get("name")))
            passed, failed = counts.get(key, (0, 0))
            counts[key] = (passed + int(entry.get("passed_records") or 0), failed + int(entry.get("failed_records") or 0))  # fmt: skip
    return counts


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

"""Freshness against the contracts' SLAs, from what the storage folder records: the landed files
and what ingestion has seen of them (``ingestion/landing_audit.py``), each table's commit
history (the time of its newest change), and the pipelines' event logs (their last completed
update).

A contract's SLA says two things (``slaProperties``):

- ``latency``: how long a landed file may wait before silver holds it. A file not yet seen by
  ingestion that landed longer ago than that makes the dataset ``late``.
- ``freshness``: how old the newest data in silver may be. Silver unchanged for longer than that
  makes the dataset ``stale`` (the source stopped delivering, or ingestion stopped running).

A dataset with nothing in silver is ``no data``. Each check is appended to the Delta table
``<env>_bronze.monitoring.freshness``, beside the landing audit, for trends and alerts.

Example:
    >>> [(f.dataset, f.status) for f in check_freshness(root, Path(".lakehouse"))]  # doctest: +SKIP
    [('erp.cost_centres', 'ok'), ...]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lakehouse.contracts import DataContract
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.ingestion.landing_audit import Fate, audit_landing
from lakehouse.ingestion.settings import bronze_table, silver_table
from lakehouse.platform.domains import Domain

FRESHNESS_TABLE = "monitoring.freshness"  # in each environment's bronze catalog
EVENT_LOG = "event_log"
# Commit metrics that say a commit changed rows (a streaming batch may commit none).
_CHANGED = ("numOutputRows", "numTargetRowsInserted", "numTargetRowsUpdated",
            "numTargetRowsDeleted", "numTargetRowsCopied", "numAddedFiles", "numRemovedFiles")  # fmt: skip


class Status:
    OK = "ok"
    LATE = "late"
    STALE = "stale"
    NO_DATA = "no data"


@dataclass(frozen=True)
class DatasetFreshness:
    """One dataset's freshness at ``checked_at``.

    Example:
        >>> str(result)  # doctest: +SKIP
        'crm.orders: ok (silver changed 5m ago; SLA freshness 1d, latency 1h)'
    """

    domain: str
    dataset: str  # <source system>.<dataset>
    checked_at: dt.datetime
    latency: dt.timedelta | None
    freshness: dt.timedelta | None
    landed: dt.datetime | None  # the newest landed file
    waiting_since: dt.datetime | None  # the oldest file ingestion has not seen yet
    bronze: dt.datetime | None  # each table's newest change
    silver: dt.datetime | None
    gold: dt.datetime | None  # the domain's stalest gold table
    last_update: dt.datetime | None  # the ingestion pipeline's last completed update
    status: str

    @property
    def breached(self) -> bool:
        return self.status != Status.OK

    @property
    def waiting(self) -> dt.timedelta | None:
        """How long the oldest unseen landed file has waited."""
        return None if self.waiting_since is None else self.checked_at - self.waiting_since

    @property
    def age(self) -> dt.timedelta | None:
        """How old silver's newest change is."""
        return None if self.silver is None else self.checked_at - self.silver


def check_freshness(
    domains: Iterable[Domain],
    storage: Path,
    *,
    landing: Path | None = None,
    env: str = "dev",
    now: dt.datetime | None = None,
) -> list[DatasetFreshness]:
    """Every dataset of ``domains`` against its contract's SLA, at ``now``.

    Example:
        >>> check_freshness(find_domains(), Path(".lakehouse"))[0].status  # doctest: +SKIP
        'ok'
    """
    now = now or dt.datetime.now(dt.UTC)
    landing = landing or storage / "landing"
    catalog = LocalCatalog(storage)
    results = []
    for domain in domains:
        gold = _stalest(catalog, [t for t in catalog.tables() if (t.catalog, t.schema) == (f"{env}_gold", domain.name) and t.table != EVENT_LOG])  # fmt: skip
        contracts = domain.contracts
        audits = audit_landing(contracts, storage=storage, landing=landing, env=env)
        for contract, audit in zip(contracts, audits, strict=True):
            files = [f for f in audit.files if f.fate is not Fate.IGNORED]
            unseen = [f.modified for f in files if f.fate is Fate.NOT_SEEN]
            silver = _changed_at(catalog, TableName.parse(silver_table(contract, env), env, ""))
            bronze = _changed_at(catalog, TableName.parse(bronze_table(contract, env), env, ""))
            update = _last_update(catalog, TableName(f"{env}_bronze", contract.source_system, EVENT_LOG))  # fmt: skip
            waiting_since = min(unseen, default=None)
            results.append(
                DatasetFreshness(
                    domain=domain.name,
                    dataset=f"{contract.source_system}.{contract.dataset}",
                    checked_at=now,
                    latency=_seconds(contract.sla.latency_seconds),
                    freshness=_seconds(contract.sla.freshness_seconds),
                    landed=max((f.modified for f in files), default=None),
                    waiting_since=waiting_since,
                    bronze=bronze,
                    silver=silver,
                    gold=gold,
                    last_update=update,
                    status=_status(contract, now, silver, waiting_since),
                )
            )
    return results


def _status(
    contract: DataContract,
    now: dt.datetime,
    silver: dt.datetime | None,
    waiting_since: dt.datetime | None,
) -> str:
    sla = contract.sla
    if silver is None:
        return Status.NO_DATA
    if sla.freshness_seconds is not None and (now - silver).total_seconds() > sla.freshness_seconds:
        return Status.STALE
    if (
        sla.latency_seconds is not None
        and waiting_since is not None
        and (now - waiting_since).total_seconds() > sla.latency_seconds
    ):
        return Status.LATE
    return Status.OK


def _seconds(value: int | None) -> dt.timedelta | None:
    return None if value is None else dt.timedelta(seconds=value)


def _changed_at(catalog: LocalCatalog, name: TableName) -> dt.datetime | None:
    """When the table last changed rows, from its commit history (its creation when it never
    did); None when there is no such table."""
    if not catalog.exists(name):
        return None
    newest = None
    for info in catalog.table(name).commit_infos():
        at = dt.datetime.fromtimestamp(int(info.get("timestamp", 0)) / 1000, dt.UTC)
        newest = newest or at
        metrics = info.get("operationMetrics") or {}
        if any(str(metrics.get(key, "0")) not in ("0", "") for key in _CHANGED):
            return at
    return newest


def _stalest(catalog: LocalCatalog, tables: list[TableName]) -> dt.datetime | None:
    changed = [_changed_at(catalog, t) for t in tables]
    known = [c for c in changed if c is not None]
    return min(known) if known and len(known) == len(changed) else None


def _last_update(catalog: LocalCatalog, event_log: TableName) -> dt.datetime | None:
    """When the pipeline's last completed update finished, from its event log."""
    from lakehouse.operations.quality_trends import logged_updates

    updates = logged_updates(catalog, event_log)
    return updates[-1].finished_at if updates else None


def save_freshness(results: list[DatasetFreshness], *, storage: Path, env: str = "dev") -> Path:
    """Append the check to ``<env>_bronze.monitoring.freshness`` (one row per dataset and
    check); returns the table's folder.

    Example:
        >>> save_freshness(results, storage=Path(".lakehouse"))  # doctest: +SKIP
        PosixPath('.lakehouse/catalog/dev_bronze/monitoring/freshness')
    """
    import pyarrow as pa

    def seconds(value: dt.timedelta | None) -> int | None:
        return None if value is None else int(value.total_seconds())

    time = pa.timestamp("us", tz="UTC")
    schema = pa.schema([
        ("checked_at", time), ("domain", pa.string()), ("dataset", pa.string()),
        ("status", pa.string()), ("latency_sla_seconds", pa.int64()),
        ("freshness_sla_seconds", pa.int64()), ("age_seconds", pa.int64()),
        ("waiting_seconds", pa.int64()), ("landed_at", time), ("bronze_changed_at", time),
        ("silver_changed_at", time), ("gold_changed_at", time), ("last_update_at", time),
    ])  # fmt: skip
    rows = [
        {
            "checked_at": r.checked_at, "domain": r.domain, "dataset": r.dataset,
            "status": r.status, "latency_sla_seconds": seconds(r.latency),
            "freshness_sla_seconds": seconds(r.freshness), "age_seconds": seconds(r.age),
            "waiting_seconds": seconds(r.waiting), "landed_at": r.landed,
            "bronze_changed_at": r.bronze, "silver_changed_at": r.silver,
            "gold_changed_at": r.gold, "last_update_at": r.last_update,
        }
        for r in results
    ]  # fmt: skip
    name = TableName.parse(f"{env}_bronze.{FRESHNESS_TABLE}", f"{env}_bronze", "monitoring")
    table = LocalCatalog(storage).table(name)
    table.path.mkdir(parents=True, exist_ok=True)
    table.append(pa.Table.from_pylist(rows, schema=schema))
    return table.path

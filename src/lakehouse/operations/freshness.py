"""Freshness against the contracts' SLAs, from what the tables and files record
(``observations.py``: a local storage folder or a workspace): the landed files and the oldest
one ingestion has not read, each table's commit history (the time of its newest change), and
the pipelines' event logs (their last completed update).

A contract's SLA says two things (``slaProperties``):

- ``latency``: how long a landed file may wait before silver holds it. A file not yet seen by
  ingestion that landed longer ago than that makes the dataset ``late``.
- ``freshness``: how old the newest data in silver may be. Silver unchanged for longer than that
  makes the dataset ``stale`` (the source stopped delivering, or ingestion stopped running).

A dataset with nothing in silver is ``no data``. Each check is appended to the Delta table
``<env>_platform.monitoring.freshness``, for trends and alerts.

Example:
    >>> [(f.dataset, f.status) for f in check_freshness(domains, LocalObservations(Path(".lakehouse")))]  # doctest: +SKIP
    [('erp.cost_centres', 'ok'), ...]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from lakehouse.contracts import DataContract
from lakehouse.ingestion.settings import bronze_table, silver_table
from lakehouse.operations.event_logs import EVENT_LOG, update_history
from lakehouse.operations.observations import Observations
from lakehouse.platform.catalogs import monitoring_table
from lakehouse.platform.domains import Domain

FRESHNESS_TABLE = "freshness"  # in <env>_platform.monitoring


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
    observed: Observations,
    *,
    env: str = "dev",
    schema_prefix: str = "",
    now: dt.datetime | None = None,
) -> list[DatasetFreshness]:
    """Every dataset of ``domains`` against its contract's SLA, at ``now``.

    Example:
        >>> check_freshness(find_domains(), LocalObservations(Path(".lakehouse")))[0].status  # doctest: +SKIP
        'ok'
    """
    now = now or dt.datetime.now(dt.UTC)
    results = []
    for domain in domains:
        gold_tables = observed.tables(f"{env}_gold", f"{schema_prefix}{domain.name}")
        gold = _stalest([observed.changed_at(t) for t in gold_tables if not t.endswith(f".{EVENT_LOG}")])  # fmt: skip
        for contract in domain.contracts:
            landing = observed.landing(contract, env, schema_prefix)
            silver = observed.changed_at(silver_table(contract, env, schema_prefix))
            log = f"{env}_bronze.{schema_prefix}{contract.source_system}.{EVENT_LOG}"
            completed = [u for u in update_history(observed.events(log)) if u.state == "COMPLETED"]  # fmt: skip
            results.append(
                DatasetFreshness(
                    domain=domain.name,
                    dataset=f"{contract.source_system}.{contract.dataset}",
                    checked_at=now,
                    latency=_seconds(contract.sla.latency_seconds),
                    freshness=_seconds(contract.sla.freshness_seconds),
                    landed=landing.landed,
                    waiting_since=landing.waiting_since,
                    bronze=observed.changed_at(bronze_table(contract, env, schema_prefix)),
                    silver=silver,
                    gold=gold,
                    last_update=completed[-1].ended_at if completed else None,
                    status=_status(contract, now, silver, landing.waiting_since),
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


def _stalest(changed: list[dt.datetime | None]) -> dt.datetime | None:
    """The oldest change of some tables; None when there are none or one has no data."""
    known = [c for c in changed if c is not None]
    return min(known) if known and len(known) == len(changed) else None


def save_freshness(
    results: list[DatasetFreshness], observed: Observations, *, env: str = "dev"
) -> str:
    """Append the check to ``<env>_platform.monitoring.freshness`` (one row per dataset and
    check); returns the table's name.

    Example:
        >>> save_freshness(results, LocalObservations(Path(".lakehouse")))  # doctest: +SKIP
        'dev_platform.monitoring.freshness'
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
    table = monitoring_table(env, FRESHNESS_TABLE)
    if rows:
        observed.append(table, pa.Table.from_pylist(rows, schema=schema))
    return table

"""What ``lakehouse report`` shows, gathered from a storage folder without Spark: per domain its
pipeline graph (from the event logs' ``dataset_definition`` and ``flow_definition`` events, with
the landing folders in front), rows per hop from landing to gold, expectation results,
conservation from landing (files, then rows per update), freshness against the contracts'
SLAs and the recent updates. ``report_page.py`` turns it into one HTML page.

Example:
    >>> report = build_report(find_domains(), Path(".lakehouse"))  # doctest: +SKIP
    >>> [(d.name, len(d.graph.nodes)) for d in report.domains]  # doctest: +SKIP
    [('finance', 14), ('hr', 6), ('sales', 16)]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lakehouse.contracts import DataContract
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.ingestion.conservation import row_conservation
from lakehouse.ingestion.landing_audit import Fate
from lakehouse.ingestion.settings import bronze_table, silver_table
from lakehouse.operations.event_logs import (
    EVENT_LOG,
    DeclaredGraph,
    Event,
    UpdateRecord,
    declared_graph,
    update_history,
)
from lakehouse.operations.freshness import DatasetFreshness, check_freshness
from lakehouse.operations.observations import LocalObservations
from lakehouse.operations.quality_trends import (
    LoggedUpdate,
    completed_updates,
    expectation_counts,
)
from lakehouse.platform.domains import Domain

RECENT_UPDATES = 12  # per domain


@dataclass(frozen=True)
class GraphNode:
    """A dataset of a domain's pipelines, or a landing folder in front of them."""

    key: str  # unique in the domain: a table's full name, pipeline:view, landing/<ss>/<dataset>
    label: str
    kind: str  # landing, streaming_table, materialized_view, view, sink or table (read only)
    layer: str  # landing, bronze, silver, quarantine, gold, view or other


@dataclass(frozen=True)
class GraphEdge:
    source: str  # node keys
    target: str
    flow: str


@dataclass(frozen=True)
class DomainGraph:
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]


@dataclass(frozen=True)
class DatasetHops:
    """One contract dataset from landing to silver: the files and records that landed, the
    rows in bronze now, and where the ingestion updates sent bronze's rows."""

    dataset: str  # <source system>.<dataset>
    files: int
    unaccounted_files: int  # changed after ingestion, or rows missing (landing_audit.py)
    landed_records: int  # in the files ingestion read
    bronze_rows: int | None  # in the table now (None: no table)
    read_from_bronze: int  # by the ingestion updates, in total
    to_silver: int
    quarantined: int
    dropped: int
    silver_rows: int | None  # in the table now (a CDC table holds one row per key)
    quarantine_rows: int | None
    lost_updates: int  # updates where bronze != silver + quarantined + dropped

    @property
    def conserved(self) -> bool:
        return self.unaccounted_files == 0 and self.lost_updates == 0


@dataclass(frozen=True)
class GoldTable:
    name: str
    rows: int | None
    last_written: int  # rows its newest completed update wrote


@dataclass(frozen=True)
class ExpectationTotal:
    """One expectation over every completed update in the event logs."""

    dataset: str
    expectation: str
    passed: int
    failed: int
    last_failed: int  # in the newest update that checked it

    @property
    def failure_rate(self) -> float:
        checked = self.passed + self.failed
        return self.failed / checked if checked else 0.0


@dataclass(frozen=True)
class DomainReport:
    name: str
    graph: DomainGraph
    hops: tuple[DatasetHops, ...]
    gold: tuple[GoldTable, ...]
    expectations: tuple[ExpectationTotal, ...]
    freshness: tuple[DatasetFreshness, ...]
    updates: tuple[UpdateRecord, ...]  # newest first, at most RECENT_UPDATES

    @property
    def problems(self) -> list[str]:
        """What needs somebody's attention, as sentences."""
        found = [f"{f.dataset} is {f.status}" for f in self.freshness if f.breached]
        found += [f"{h.dataset} lost rows" for h in self.hops if not h.conserved]
        latest: dict[str, UpdateRecord] = {}
        for update in self.updates:  # newest first
            latest.setdefault(update.pipeline, update)
        found += [f"{u.pipeline}'s last update {u.state}" for u in latest.values() if u.state in ("FAILED", "CANCELED")]  # fmt: skip
        return found


@dataclass(frozen=True)
class RunReport:
    generated_at: dt.datetime
    env: str
    storage: Path
    domains: tuple[DomainReport, ...]


def build_report(
    domains: Iterable[Domain],
    storage: Path,
    *,
    env: str = "dev",
    landing: Path | None = None,
    now: dt.datetime | None = None,
) -> RunReport:
    """Everything the report shows about ``domains`` under ``storage``.

    Example:
        >>> build_report(find_domains(), Path(".lakehouse")).domains[0].problems  # doctest: +SKIP
        []
    """
    now = now or dt.datetime.now(dt.UTC)
    landing = landing or storage / "landing"
    observed = LocalObservations(storage, landing)
    domains = list(domains)
    freshness = check_freshness(domains, observed, env=env, now=now)
    reports = []
    for domain in domains:
        contracts = domain.contracts
        ingestion = {ss: observed.events(f"{env}_bronze.{ss}.{EVENT_LOG}") for ss in domain.source_systems}  # fmt: skip
        gold = observed.events(f"{env}_gold.{domain.name}.{EVENT_LOG}")
        completed = {ss: completed_updates(events) for ss, events in ingestion.items()}
        completed_gold = completed_updates(gold)
        every = [*(u for updates in completed.values() for u in updates), *completed_gold]
        updates = sorted(
            (u for events in [*ingestion.values(), gold] for u in update_history(events)),
            key=lambda u: u.started_at,
            reverse=True,
        )
        reports.append(
            DomainReport(
                name=domain.name,
                graph=_domain_graph(contracts, [*ingestion.values(), gold], env),
                hops=tuple(
                    _hops(observed, c, completed.get(c.source_system, []), env) for c in contracts
                ),
                gold=_gold_tables(observed, domain.name, completed_gold, env),
                expectations=_expectations(every),
                freshness=tuple(f for f in freshness if f.domain == domain.name),
                updates=tuple(updates[:RECENT_UPDATES]),
            )
        )
    return RunReport(now, env, storage, tuple(reports))


def _domain_graph(contracts: list[DataContract], logs: list[list[Event]], env: str) -> DomainGraph:
    nodes: dict[str, GraphNode] = {}
    edges: list[GraphEdge] = []
    for events in logs:
        declared: DeclaredGraph = declared_graph(events)
        pipeline = events[-1].pipeline if events else ""

        def key(name: str, pipeline: str = pipeline) -> str:
            return name if "." in name else f"{pipeline}:{name}"  # views are the pipeline's own

        for name, kind in declared.datasets.items():
            nodes[key(name)] = GraphNode(key(name), _label(name), kind, _layer(name, kind, env))
        for flow in declared.flows:
            for source in flow.inputs:
                if key(source) not in nodes:  # a table another pipeline writes
                    nodes[key(source)] = GraphNode(key(source), _label(source), "table", _layer(source, "table", env))  # fmt: skip
                edges.append(GraphEdge(key(source), key(flow.output), flow.name))
    for contract in contracts:
        bronze = bronze_table(contract, env)
        if bronze in nodes:
            folder = f"landing/{contract.source_system}/{contract.dataset}"
            label = f"{contract.source_system}/{contract.dataset}/"
            nodes[folder] = GraphNode(folder, label, "landing", "landing")
            edges.append(GraphEdge(folder, bronze, "Auto Loader"))
    return DomainGraph(tuple(nodes.values()), tuple(dict.fromkeys(edges)))  # each edge once


def _label(name: str) -> str:
    return ".".join(name.split(".")[-2:])


def _layer(name: str, kind: str, env: str) -> str:
    if kind == "view" or "." not in name:
        return "view"
    catalog = name.split(".")[0]
    for layer in ("bronze", "silver", "gold"):
        if catalog == f"{env}_{layer}":
            return "quarantine" if name.endswith("_quarantine") else layer
    return "other"


def _hops(
    observed: LocalObservations, contract: DataContract, updates: list[LoggedUpdate], env: str
) -> DatasetHops:
    catalog, audit = observed.catalog, observed.audit(contract, env)
    read = [f for f in audit.files if f.fate in (Fate.INGESTED, Fate.UNREADABLE)]
    checks = [row_conservation(u.result, contract, env) for u in updates]
    silver = silver_table(contract, env)
    return DatasetHops(
        dataset=f"{contract.source_system}.{contract.dataset}",
        files=len([f for f in audit.files if f.fate is not Fate.IGNORED]),
        unaccounted_files=len(audit.unaccounted),
        landed_records=sum(f.records or 0 for f in read),
        bronze_rows=_rows(catalog, bronze_table(contract, env), env),
        read_from_bronze=sum(c.bronze for c in checks),
        to_silver=sum(c.silver for c in checks),
        quarantined=sum(c.quarantined for c in checks),
        dropped=sum(c.dropped for c in checks),
        silver_rows=_rows(catalog, silver, env),
        quarantine_rows=_rows(catalog, f"{silver}_quarantine", env),
        lost_updates=len([c for c in checks if not c.holds]),
    )


def _gold_tables(
    observed: LocalObservations, domain: str, updates: list[LoggedUpdate], env: str
) -> tuple[GoldTable, ...]:
    written: dict[str, int] = {}
    for update in updates:  # oldest first: the newest wins
        for flow in update.result.flows:
            written[flow.dataset] = flow.num_output_rows
    names = [t for t in observed.tables(f"{env}_gold", domain) if not t.endswith(f".{EVENT_LOG}")]
    return tuple(
        GoldTable(name, _rows(observed.catalog, name, env), written.get(name, 0)) for name in names
    )


def _expectations(updates: list[LoggedUpdate]) -> tuple[ExpectationTotal, ...]:
    """Each expectation's records over ``updates`` (oldest first), and in the newest."""
    totals: dict[tuple[str, str], list[int]] = {}
    for update in sorted(updates, key=lambda u: u.finished_at):
        for key, (passed, failed) in expectation_counts(update).items():
            total = totals.setdefault(key, [0, 0, 0])
            total[0] += passed
            total[1] += failed
            total[2] = failed
    return tuple(
        ExpectationTotal(dataset, name, *total) for (dataset, name), total in sorted(totals.items())
    )


def _rows(catalog: LocalCatalog, name: str, env: str) -> int | None:
    table = TableName.parse(name, env, "")
    return catalog.table(table).row_count() if catalog.exists(table) else None

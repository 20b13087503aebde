"""The platform demo: every domain's sample data landed, ingested and turned into gold by the
local engine, then a summary per domain and layer.

Each run lands the next batch (one day of each source system) and runs every pipeline once,
incrementally, as the scheduled jobs would; ``fresh=True`` starts from an empty storage folder.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession

from lakehouse.domain_run import DomainRun, ProgressCallback, run_domain
from lakehouse.engine import UpdateResult, get_spark, sql
from lakehouse.ingestion import RowConservation, row_conservation
from lakehouse.ingestion.landing_audit import DatasetAudit, audit_landing, save_audit
from lakehouse.ingestion.settings import bronze_table, silver_table
from lakehouse.operations.report_page import REPORT_FILE, write_report
from lakehouse.operations.run_report import build_report
from lakehouse.platform.domains import DOMAINS, find_domains
from lakehouse.sample_data import LandedDataset, land_domain
from lakehouse.scoring.batch_scoring import RowResult

ENV = "dev"


@dataclass(frozen=True)
class LayerSummary:
    """One domain's layer after a demo run."""

    domain: str
    layer: str  # bronze, silver or gold
    tables: int
    rows: int  # in the layer's tables now
    new_rows: int  # written by this run
    expectations_passed: int
    expectations_failed: int
    quarantined: int  # by this run
    seconds: float  # the pipeline updates that wrote the layer


@dataclass(frozen=True)
class DemoRun:
    """What one demo run landed and ran, and where every landed record went."""

    batch: int
    landed: dict[str, list[LandedDataset]]  # domain -> datasets
    runs: list[DomainRun]
    landing: list[DatasetAudit]  # every landed file, from the landing folder on
    conservation: list[RowConservation]  # every bronze row of this run
    layers: list[LayerSummary]
    scoring: list[RowResult]  # each model of the scoring control table, over the new gold
    trained: list[str]  # models trained by this run (the first, when none is registered)
    seconds: float
    report: Path  # the run report (lakehouse report), <storage>/report.html


def run_demo(
    storage: Path,
    *,
    fresh: bool = False,
    domains_root: Path = DOMAINS,
    spark: SparkSession | None = None,
    on_progress: ProgressCallback | None = None,
    on_landed: Callable[[str, int, list[LandedDataset]], None] | None = None,
    score: bool = True,
) -> DemoRun:
    """Land the next batch of every domain's sample data, run every source system's ingestion
    and every domain's gold pipeline, score the control table's models over the new gold
    (``score``; each model trained first when none is registered), and summarize.

    Example:
        >>> run = run_demo(Path(".lakehouse"))  # doctest: +SKIP
        >>> [(s.domain, s.layer, s.rows) for s in run.layers][:2]  # doctest: +SKIP
        [('finance', 'bronze', 77), ('finance', 'silver', 69)]
    """
    started = time.perf_counter()
    storage = storage.resolve()
    if fresh:
        shutil.rmtree(storage, ignore_errors=True)
    spark = spark or get_spark()  # started here, so that no pipeline's time includes it
    landing = storage / "landing"
    batch = next_batch(landing)
    domains = find_domains(domains_root)
    landed: dict[str, list[LandedDataset]] = {}
    for domain in domains:  # every source delivers first, as before a scheduled run
        landed[domain.name] = land_domain(domain.folder, landing, batch)
        if on_landed is not None:
            on_landed(domain.name, batch, landed[domain.name])
    runs = [
        run_domain(
            domain, storage=storage, landing=landing, env=ENV, spark=spark, on_progress=on_progress
        )
        for domain in domains
    ]
    conservation = [
        row_conservation(run.ingestion[c.source_system], c, ENV)
        for run in runs
        for c in run.domain.contracts
    ]
    contracts = [c for run in runs for c in run.domain.contracts]
    audits = audit_landing(contracts, storage=storage, landing=landing, env=ENV)
    save_audit(audits, storage=storage, env=ENV)
    layers = _layers(storage, runs, spark)
    trained, scoring = _score(spark, storage, domains_root) if score else ([], [])
    seconds = time.perf_counter() - started
    report = write_report(
        build_report(domains, storage, env=ENV, landing=landing), storage / REPORT_FILE
    )
    return DemoRun(
        batch, landed, runs, audits, conservation, layers, scoring, trained, seconds, report
    )


def _score(
    spark: SparkSession, storage: Path, domains_root: Path
) -> tuple[list[str], list[RowResult]]:
    """Train each model that has no registered version yet, then run the scoring job."""
    from lakehouse.scoring.control_table import selected_rows
    from lakehouse.scoring.local_run import local_identifiers, run_scoring
    from lakehouse.scoring.model_store import use_model_store
    from lakehouse.scoring.training import ensure_trained

    use_model_store(storage)
    _, rows = selected_rows(ENV, None, domains_root)
    trained = [
        f"{row.model} version {version}"
        for row in rows
        if (version := ensure_trained(spark, row, local_identifiers(storage), storage))
    ]
    return trained, run_scoring(spark, storage, ENV, domains_root=domains_root)


def next_batch(landing: Path) -> int:
    """One more than the highest batch landed so far, 0 on a fresh landing folder."""
    numbers = [int(f.stem.split("-")[1]) for f in landing.glob("*/*/batch-*.json")]
    return max(numbers, default=-1) + 1


def _layer_tables(run: DomainRun) -> dict[str, tuple[list[str], list[UpdateResult]]]:
    """Each layer's tables of a domain, and the updates that wrote them."""
    ingestion = list(run.ingestion.values())
    contracts = run.domain.contracts
    layers = {
        "bronze": ([bronze_table(c, run.env) for c in contracts], ingestion),
        "silver": ([silver_table(c, run.env) for c in contracts], ingestion),
    }
    if run.pipelines:
        updates = list(run.pipelines.values())
        tables = [n for u in updates for n, kind in u.datasets.items() if kind != "view"]
        layers["gold"] = (tables, updates)
    return layers


def _layers(storage: Path, runs: list[DomainRun], spark: SparkSession) -> list[LayerSummary]:
    per_run = [(run, _layer_tables(run)) for run in runs]
    every_table = [t for _, layers in per_run for tables, _ in layers.values() for t in tables]
    counts = _row_counts(storage, every_table, spark)
    summaries = []
    for run, layers in per_run:
        for layer, (tables, updates) in layers.items():
            flows = [f for u in updates for f in u.flows]
            written = [f for f in flows if f.dataset in tables]
            checks = [e for f in written for e in f.expectations]
            quarantine = {f"{t}_quarantine" for t in tables} if layer == "silver" else set()
            summaries.append(
                LayerSummary(
                    run.domain.name,
                    layer,
                    tables=len(tables),
                    rows=sum(counts[t] for t in tables),
                    new_rows=sum(f.num_output_rows for f in written),
                    expectations_passed=sum(int(e["passed_records"]) for e in checks),
                    expectations_failed=sum(int(e["failed_records"]) for e in checks),
                    quarantined=sum(f.num_output_rows for f in flows if f.dataset in quarantine),
                    seconds=sum(u.seconds for u in updates),
                )
            )
    return summaries


def _row_counts(storage: Path, tables: list[str], spark: SparkSession) -> dict[str, int]:
    """Rows in each table, in one query."""
    if not tables:
        return {}
    query = " UNION ALL ".join(f"SELECT '{t}' AS name, count(*) AS n FROM {t}" for t in tables)
    return {r["name"]: r["n"] for r in sql(storage, query, spark=spark).collect()}

"""Replay: rebuild a domain's silver and gold from bronze's append-only history, the way back
from a bad silver deploy (fix the code, then replay).

Bronze keeps every record as landed, so silver (and its quarantine) can be recomputed from it at
any time: each source system's ingestion pipeline runs with its silver tables selected for a
full refresh, which reads bronze from its first version again and leaves bronze as it is; then
the domain's gold pipelines run with a full refresh. Each rebuilt table is compared with the
version it replaced (Delta keeps it: ``RESTORE TABLE ... TO VERSION AS OF`` brings it back),
counting rows only on either side, never showing a value.

Example:
    >>> [str(t) for t in replay_domain(Domain(Path("domains/sales")), storage=Path(".lakehouse"),
    ...                                landing=Path(".lakehouse/landing")).tables]  # doctest: +SKIP
    ['dev_silver.crm.customers: 42 rows, as before (version 3 -> 5)', ...]
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession

from lakehouse.domain_run import ProgressCallback, run_spec
from lakehouse.engine import get_spark, run_pipeline
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.ingestion.pipeline_spec import ingestion_pipeline
from lakehouse.ingestion.settings import silver_table
from lakehouse.platform.domains import Domain
from lakehouse.platform.pipelines import domain_pipelines


@dataclass(frozen=True)
class ReplayedTable:
    """One rebuilt table against the table it replaced (kept at ``replaced``)."""

    name: str
    replaced: Path | None  # None: the table did not exist
    rows: int
    only_before: int  # rows the replaced table held that the rebuilt one does not
    only_after: int

    @property
    def same(self) -> bool:
        return self.replaced is not None and self.only_before == self.only_after == 0

    def __str__(self) -> str:
        if self.replaced is None:
            return f"{self.name}: {self.rows} rows, new"
        change = "as before" if self.same else f"{self.only_before} row(s) gone, {self.only_after} new"  # fmt: skip
        return f"{self.name}: {self.rows} rows, {change}"


@dataclass(frozen=True)
class DomainReplay:
    """A domain's replay: its rebuilt tables, and where the replaced ones are kept."""

    domain: str
    tables: list[ReplayedTable]
    kept: Path
    seconds: float


def replay_domain(
    domain: Domain,
    *,
    storage: Path,
    landing: Path,
    env: str = "dev",
    spark: SparkSession | None = None,
    on_progress: ProgressCallback | None = None,
) -> DomainReplay:
    """Rebuild ``domain``'s silver, quarantine and gold tables from bronze, and compare each
    with the copy of the table it replaced.

    Example:
        >>> replay = replay_domain(Domain(Path("domains/hr")), storage=Path(".lakehouse"), landing=Path(".lakehouse/landing"))  # doctest: +SKIP
        >>> all(t.same for t in replay.tables)  # doctest: +SKIP
        True
    """
    started = time.perf_counter()
    spark = spark or get_spark()
    catalog = LocalCatalog(storage)
    contracts = str(domain.folder / "contracts")
    rebuilt: list[TableName] = []
    for source_system in domain.source_systems:
        silver = [silver_table(c, env) for c in domain.contracts if c.source_system == source_system]  # fmt: skip
        rebuilt += [TableName.parse(t + suffix, "", "") for t in silver for suffix in ("", "_quarantine")]  # fmt: skip
    rebuilt += _gold_tables(catalog, env, domain)
    kept = storage / "replay" / time.strftime("%Y%m%dT%H%M%S")
    replaced = {}
    for table in rebuilt:
        if catalog.exists(table):
            replaced[table] = kept / table.catalog / table.schema / table.table
            shutil.copytree(catalog.table(table).path, replaced[table])
    for source_system in domain.source_systems:
        spec = ingestion_pipeline(domain, source_system, env, contracts=contracts, landing=str(landing))  # fmt: skip
        selected = [str(t) for t in rebuilt if (t.catalog, t.schema) == (f"{env}_silver", source_system)]  # fmt: skip
        run_pipeline(
            list(spec.sources), storage=storage, name=spec.name, catalog=spec.catalog,
            schema=spec.schema, configuration=spec.configuration, refresh=selected,
            spark=spark, on_progress=on_progress,
        )  # fmt: skip
    for spec in domain_pipelines(domain, env):
        run_spec(spec, storage=storage, full_refresh=True, spark=spark, on_progress=on_progress)
    tables = [
        _compare(spark, catalog, t, replaced.get(t))
        for t in [*rebuilt, *_gold_tables(catalog, env, domain)]
        if catalog.exists(t)
    ]
    unique = list({t.name: t for t in tables}.values())  # a gold table listed twice
    return DomainReplay(domain.name, unique, kept, time.perf_counter() - started)


def _gold_tables(catalog: LocalCatalog, env: str, domain: Domain) -> list[TableName]:
    return [
        t
        for t in catalog.tables()
        if (t.catalog, t.schema) == (f"{env}_gold", domain.name) and t.table != "event_log"
    ]


def _compare(
    spark: SparkSession, catalog: LocalCatalog, name: TableName, replaced: Path | None
) -> ReplayedTable:
    after = spark.read.format("delta").load(str(catalog.table(name).path))
    rows = after.count()
    if replaced is None:
        return ReplayedTable(str(name), None, rows, 0, 0)
    before = spark.read.format("delta").load(str(replaced))
    only_before, only_after = before.exceptAll(after).count(), after.exceptAll(before).count()
    return ReplayedTable(str(name), replaced, rows, only_before, only_after)

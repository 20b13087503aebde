"""What the domains' tests share: silver tables seeded by hand for gold tests, and what the
layers should hold, worked out in plain Python from the landed sample records."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import DataType

from lakehouse.contracts import DataContract
from lakehouse.contracts.model import Classification
from lakehouse.domain_run import DomainRun, run_domain, run_spec
from lakehouse.engine import sql
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.ingestion import row_conservation
from lakehouse.ingestion.settings import bronze_table, silver_table
from lakehouse.platform.domains import Domain
from lakehouse.platform.pipelines import domain_pipelines
from lakehouse.sample_data import Outcome, Record, SampleRecord, land_domain

ENV = "dev"
BRONZE_LINEAGE = [
    ("_rescued_data", "string"),
    ("_ingested_at", "timestamp"),
    ("_source_file", "string"),
    ("_record_id", "string"),
]


def _rule_broken(kind: str) -> str:
    """The name, or name prefix, of the silver rule a quarantined sample record breaks."""
    kind, _, name = kind.partition(":")
    return {
        "unreadable": "record_readable",
        "malformed": f"{name}_is_",
        "required": f"{name}_required",
    }.get(kind, name)


def _simple(spark_type: str) -> str:
    """A contract's Spark type as Spark prints it: ``DECIMAL(12,2)`` as ``decimal(12,2)``."""
    return DataType.fromDDL(spark_type).simpleString()


def seed_table(
    spark: SparkSession, storage: Path, name: str, rows: Sequence[tuple], schema: str
) -> DataFrame:
    """Write ``rows`` as the Delta table ``name`` of the local catalog under ``storage``."""
    frame = spark.createDataFrame(list(rows), schema)
    path = LocalCatalog(storage).table_path(TableName.parse(name, "main", "default"))
    frame.write.format("delta").mode("overwrite").save(str(path))
    return frame


def run_gold(domain_folder: Path, storage: Path, spark: SparkSession) -> None:
    """Run the domain's own pipelines, as its bundle YAML declares them, over whatever silver
    tables ``storage`` holds."""
    for spec in domain_pipelines(Domain(domain_folder), ENV):
        run_spec(spec, storage=storage, spark=spark)


@dataclass
class DomainBatches:
    """A domain run batch by batch as its scheduled job would: what landed, what ran."""

    domain: Domain
    storage: Path
    batches: list[dict[str, list[SampleRecord]]]  # per batch: dataset -> records
    runs: list[DomainRun]  # one per batch

    @property
    def landed(self) -> dict[str, list[SampleRecord]]:
        """Every batch's records, per dataset."""
        return {d: [r for batch in self.batches for r in batch.get(d, [])] for d in self.batches[0]}

    def contract(self, dataset: str) -> DataContract:
        return next(c for c in self.domain.contracts if c.dataset == dataset)

    def silver_records(self, dataset: str) -> list[Record]:
        """The landed records that should reach silver, without columns the contract lacks."""
        names = [c.name for c in self.contract(dataset).columns]
        return [
            {n: r.record[n] for n in names}
            for r in self.landed[dataset]
            if r.outcome is Outcome.SILVER
        ]

    def quarantine_problems(self, spark: SparkSession) -> list[str]:
        """Datasets whose quarantine table does not hold exactly the landed records that
        should be there, each with the rule it was made to break."""
        problems = []
        for dataset, records in self.landed.items():
            table = f"{silver_table(self.contract(dataset), ENV)}_quarantine"
            rows = sql(self.storage, f"SELECT _broken_rules FROM {table}", spark=spark).collect()
            broken = {rule for row in rows for rule in row[0]}
            expected = [r for r in records if r.outcome is Outcome.QUARANTINED]
            if len(rows) != len(expected):
                problems.append(f"{table}: {len(rows)} rows, {len(expected)} landed to quarantine")
            for record in expected:
                rule = _rule_broken(record.kind)
                if not any(r.startswith(rule) for r in broken):
                    problems.append(f"{table}: no record broke {rule} ({record.kind})")
        return problems

    def table_problems(self, spark: SparkSession) -> list[str]:
        """Differences between each contract and its generated bronze and silver tables
        (columns, types, comments and classification properties), and gold tables without a
        classification."""
        problems = []
        catalog = LocalCatalog(self.storage)
        for contract in self.domain.contracts:
            cdc = contract.cdc
            stored = [c for c in contract.columns if not (cdc and c.name == cdc.operation_column)]
            silver = [(c.name, _simple(c.spark_type), c.description) for c in stored]
            if cdc and cdc.scd_type == 2:
                sequence = _simple(contract.column(cdc.sequence_column).spark_type)
                silver += [("__START_AT", sequence, None), ("__END_AT", sequence, None)]
            bronze = [(c.name, "string", c.description) for c in contract.columns]
            bronze += [(name, kind, None) for name, kind in BRONZE_LINEAGE]
            expected = {bronze_table(contract, ENV): bronze, silver_table(contract, ENV): silver}
            for table, columns in expected.items():
                schema = sql(self.storage, f"SELECT * FROM {table}", spark=spark).schema
                actual = [
                    (f.name, f.dataType.simpleString(), f.metadata.get("comment")) for f in schema
                ]
                if actual != columns:
                    problems.append(f"{table}: columns {actual}, expected {columns}")
                properties = catalog.properties(TableName.parse(table, "", ""))
                columns = {
                    c.name: c.classification.value
                    for c in contract.columns
                    if c.classification is not contract.classification
                }
                # bronze holds rescued data: any column of the source, at its highest level
                same_source = [k for k in self.domain.contracts if k.source_system == contract.source_system]  # fmt: skip
                highest = max((c.classification for k in same_source for c in (k, *k.columns)), key=lambda c: c.rank)  # fmt: skip
                if table == bronze_table(contract, ENV) and highest.rank > contract.classification.rank:  # fmt: skip
                    columns["_rescued_data"] = highest.value
                classified = {
                    "lakehouse.classification": contract.classification.value,
                    "lakehouse.classification.columns": columns,
                }
                found = {
                    "lakehouse.classification": properties.get("lakehouse.classification"),
                    "lakehouse.classification.columns": json.loads(
                        properties.get("lakehouse.classification.columns", "{}")
                    ),
                }
                if found != classified:
                    problems.append(f"{table}: {found}, expected {classified}")
        known = {c.value for c in Classification}
        gold = {t: k for u in self.runs[-1].pipelines.values() for t, k in u.datasets.items()}
        for table, kind in gold.items():
            classification = catalog.properties(TableName.parse(table, "", "")).get(
                "lakehouse.classification"
            )
            if kind != "view" and classification not in known:  # the grants job reads it
                problems.append(f"{table}: lakehouse.classification {classification!r}")
        return problems

    def conservation_problems(self) -> list[str]:
        """Each update's datasets whose bronze rows are not all accounted for."""
        return [
            str(check)
            for run in self.runs
            for contract in self.domain.contracts
            if not (
                check := row_conservation(run.ingestion[contract.source_system], contract, ENV)
            ).holds
        ]


def run_batches(
    domain_folder: Path, root: Path, batches: Iterable[int], spark: SparkSession
) -> DomainBatches:
    """Land each batch of the domain's sample data and run the domain after each."""
    domain = Domain(domain_folder)
    result = DomainBatches(domain, root / "storage", [], [])
    for batch in batches:
        landed = land_domain(domain.folder, root / "landing", batch)
        result.batches.append({d.contract.dataset: d.records for d in landed})
        result.runs.append(
            run_domain(domain, storage=result.storage, landing=root / "landing", spark=spark)
        )
    return result


@dataclass(frozen=True)
class Version:
    """An SCD type 2 version: the record's values from ``start`` until ``end``."""

    record: Record
    start: Any
    end: Any


def scd2_versions(
    events: Iterable[Record], contract: DataContract, tracked: Sequence[str]
) -> dict[Any, list[Version]]:
    """The versions AUTO CDC SCD type 2 keeps per key, folded from the events in sequence
    order: a change of a tracked column opens a version, a delete closes it."""
    cdc = contract.cdc
    assert cdc is not None and len(contract.keys) == 1
    by_key: dict[Any, list[Record]] = defaultdict(list)
    for event in events:
        by_key[event[contract.keys[0]]].append(event)
    versions: dict[Any, list[Version]] = {}
    for key, changes in by_key.items():
        kept: list[Version] = []
        for event in sorted(changes, key=lambda e: e[cdc.sequence_column]):
            at = event[cdc.sequence_column]
            is_open = bool(kept) and kept[-1].end is None
            if cdc.operation_column and event[cdc.operation_column] == cdc.delete_marker:
                if is_open:
                    kept[-1] = Version(kept[-1].record, kept[-1].start, at)
                continue
            if is_open and all(kept[-1].record[c] == event[c] for c in tracked):
                continue
            if is_open:
                kept[-1] = Version(kept[-1].record, kept[-1].start, at)
            kept.append(Version(event, at, None))
        versions[key] = kept
    return versions


def current(versions: dict[Any, list[Version]]) -> dict[Any, Version]:
    """Each key's open version; deleted keys have none."""
    return {key: v[-1] for key, v in versions.items() if v and v[-1].end is None}

"""A domain run batch by batch on its sample data, and the checks every domain's end-to-end
test makes: each table as its contract says, and every landed record accounted for."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql.types import DataType

from lakehouse.contracts import DataContract
from lakehouse.contracts.model import Classification
from lakehouse.domain_run import DomainRun
from lakehouse.ingestion import row_conservation
from lakehouse.ingestion.settings import bronze_table, silver_table
from lakehouse.platform.domains import Domain
from lakehouse.sample_data import Outcome, Record, SampleRecord

if TYPE_CHECKING:
    from lakehouse.testing.local_lakehouse import LocalLakehouse

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


@dataclass
class DomainBatches:
    """A domain run batch by batch as its scheduled job would: what landed, what ran, and
    what its tables should hold (``LocalLakehouse.run_batches`` makes one).

    Example:
        >>> sales = lakehouse.run_batches(domain, [0, 1])  # doctest: +SKIP
        >>> sales.table_problems() + sales.conservation_problems() + sales.quarantine_problems()  # doctest: +SKIP
        []
    """

    domain: Domain
    lakehouse: LocalLakehouse
    batches: list[dict[str, list[SampleRecord]]]  # per batch: dataset -> records
    runs: list[DomainRun]  # one per batch

    @property
    def env(self) -> str:
        return self.lakehouse.env

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

    def quarantine_problems(self) -> list[str]:
        """Datasets whose quarantine table does not hold exactly the landed records that
        should be there, each with the rule it was made to break."""
        problems = []
        for dataset, records in self.landed.items():
            table = f"{silver_table(self.contract(dataset), self.env)}_quarantine"
            rows = self.lakehouse.table(table).select("_broken_rules").collect()
            broken = {rule for row in rows for rule in row[0]}
            expected = [r for r in records if r.outcome is Outcome.QUARANTINED]
            if len(rows) != len(expected):
                problems.append(f"{table}: {len(rows)} rows, {len(expected)} landed to quarantine")
            for record in expected:
                rule = _rule_broken(record.kind)
                if not any(r.startswith(rule) for r in broken):
                    problems.append(f"{table}: no record broke {rule} ({record.kind})")
        return problems

    def table_problems(self) -> list[str]:
        """Differences between each contract and its generated bronze and silver tables
        (columns, types, comments and classification properties), and gold tables without a
        classification."""
        problems = []
        for contract in self.domain.contracts:
            cdc = contract.cdc
            stored = [c for c in contract.columns if not (cdc and c.name == cdc.operation_column)]
            silver = [(c.name, _simple(c.spark_type), c.description) for c in stored]
            if cdc and cdc.scd_type == 2:
                sequence = _simple(contract.column(cdc.sequence_column).spark_type)
                silver += [("__START_AT", sequence, None), ("__END_AT", sequence, None)]
            bronze = [(c.name, "string", c.description) for c in contract.columns]
            bronze += [(name, kind, None) for name, kind in BRONZE_LINEAGE]
            expected = {
                bronze_table(contract, self.env): bronze,
                silver_table(contract, self.env): silver,
            }
            for table, columns in expected.items():
                schema = self.lakehouse.table(table).schema
                actual = [
                    (f.name, f.dataType.simpleString(), f.metadata.get("comment")) for f in schema
                ]
                if actual != columns:
                    problems.append(f"{table}: columns {actual}, expected {columns}")
                properties = self.lakehouse.properties(table)
                column_levels = {
                    c.name: c.classification.value
                    for c in contract.columns
                    if c.classification is not contract.classification
                }
                # bronze holds rescued data: any column of the source, at its highest level
                same_source = [k for k in self.domain.contracts if k.source_system == contract.source_system]  # fmt: skip
                highest = max((c.classification for k in same_source for c in (k, *k.columns)), key=lambda c: c.rank)  # fmt: skip
                if table == bronze_table(contract, self.env) and highest.rank > contract.classification.rank:  # fmt: skip
                    column_levels["_rescued_data"] = highest.value
                classified = {
                    "lakehouse.classification": contract.classification.value,
                    "lakehouse.classification.columns": column_levels,
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
            classification = self.lakehouse.properties(table).get("lakehouse.classification")
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
                check := row_conservation(run.ingestion[contract.source_system], contract, self.env)
            ).holds
        ]

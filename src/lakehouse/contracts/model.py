"""The typed model of a source dataset's contract: what the platform reads from ODCS.

``loader.py`` builds it from an ODCS file after checking the file; every field here is
something ingestion uses (see docs/contracts.md for where each comes from in the YAML).
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Classification(str, Enum):
    """How sensitive data is, least first; above ``general`` only the owning domain reads it."""

    PUBLIC = "public"
    GENERAL = "general"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"

    @property
    def rank(self) -> int:
        return list(Classification).index(self)


class Action(str, Enum):
    """What a broken quality rule does to the record: the pipeline expectation's action."""

    WARN = "warn"  # kept, counted
    DROP = "drop"  # dropped, counted
    QUARANTINE = "quarantine"  # kept in the quarantine table beside silver, counted
    FAIL = "fail"  # stops the update


class FrozenModel(BaseModel):
    """A configuration file's model: immutable once loaded, and an unknown field is an error
    (a misspelt key must not be ignored)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Column(FrozenModel):
    """A column of the dataset; ``spark_type`` is the physical type as Spark DDL."""

    name: str
    logical_type: str
    spark_type: str
    required: bool = False
    primary_key_position: int | None = None
    description: str | None = None
    classification: Classification


class QualityRule(FrozenModel):
    """A named row-level rule: ``condition`` is the SQL a valid record satisfies."""

    name: str
    condition: str
    action: Action
    column: str | None = None
    description: str | None = None


class CdcSettings(FrozenModel):
    """How the source's records are change events (AUTO CDC in silver)."""

    sequence_column: str
    scd_type: Literal[1, 2]
    operation_column: str | None = None
    delete_marker: str | None = None
    truncate_marker: str | None = None
    track_history_columns: tuple[str, ...] | None = None
    track_history_except_columns: tuple[str, ...] | None = None


class Sla(FrozenModel):
    """Service levels, in seconds: landing to silver (latency), and age of the newest data
    (freshness)."""

    latency_seconds: int | None = None
    freshness_seconds: int | None = None


class DataContract(FrozenModel):
    """A source dataset as its owning domain describes it.

    Example:
        >>> contract = load_contract(Path("domains/sales/contracts/crm_customers.yaml"))  # doctest: +SKIP
        >>> contract.source_system, contract.dataset, contract.keys  # doctest: +SKIP
        ('crm', 'customers', ('customer_id',))
    """

    id: str
    version: str
    domain: str
    source_system: str
    dataset: str
    description: str | None = None
    owner_team: str
    classification: Classification
    ingestion_mode: Literal["batch", "near-real-time"]
    file_format: Literal["json", "csv", "parquet"]
    # How the source system encodes its JSON and CSV text; a line in another is quarantined.
    encoding: str = "utf-8"
    # Whether a file changed in place is read again (Auto Loader's cloudFiles.allowOverwrites).
    allow_overwrites: bool = False
    columns: tuple[Column, ...]
    quality: tuple[QualityRule, ...] = ()
    cdc: CdcSettings | None = None
    sla: Sla = Sla()
    # A SQL condition over the record's columns: readers outside the owning domain see only
    # the rows where it holds (a Unity Catalog row filter; governance/column_masks.py).
    row_filter: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """The primary key columns, in key position order: the CDC keys."""
        keyed = [c for c in self.columns if c.primary_key_position is not None]
        return tuple(c.name for c in sorted(keyed, key=lambda c: c.primary_key_position or 0))

    def column(self, name: str) -> Column:
        """The column called ``name``; a ``KeyError`` when the contract has none."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.id} has no column '{name}'")

    @property
    def major_version(self) -> int:
        return int(self.version.split(".")[0])

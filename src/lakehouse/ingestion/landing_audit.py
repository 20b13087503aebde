"""Conservation from landing: every file under a dataset's landing folder, reconciled with what
became of it. Row conservation (``conservation.py``) starts at bronze; this starts one step
earlier, at the files a source system delivered.

Each file is one of:

- ``ingested``: read by the bronze stream, and bronze holds as many rows from it as the file
  holds records (counted again here, with the reader Auto Loader uses locally);
- ``unreadable``: read, and kept in bronze as one record saying why (quarantined in silver as
  ``file_readable``);
- ``ignored``: skipped by Auto Loader's name rule (a name or folder starting with ``_`` or
  ``.``), as Databricks skips it;
- ``not yet seen``: landed after the last update, or changed in place since it was read when
  the contract sets ``allowOverwrites`` (the next update reads it again, whole);
- ``changed after ingestion``: its modification time differs from when it was read (still being
  written then, or re-delivered in place) and the contract does not allow overwrites: the new
  content will never be read;
- ``rows missing``: read, but bronze holds fewer or more rows from its last reading than it
  holds records.

The last two are unaccounted for. The audit runs over the local engine's storage folder (its
checkpoints and bronze tables).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from lakehouse.contracts import DataContract
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.observability.masking import CLASSIFICATION
from lakehouse.engine.sources.cloud_files_state import SeenFile, cloud_files_state, local_path
from lakehouse.engine.sources.landed_records import FILE_ERROR, file_records, is_hidden
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.ingestion.bronze import INGESTED_AT, SOURCE_FILE
from lakehouse.ingestion.settings import bronze_table
from lakehouse.ingestion.table_metadata import RESCUED
from lakehouse.platform.catalogs import monitoring_table

AUDIT_TABLE = "landing_audit"  # in <env>_platform.monitoring (platform/catalogs.py)


class Fate(StrEnum):
    INGESTED = "ingested"
    UNREADABLE = "unreadable"
    IGNORED = "ignored"
    NOT_SEEN = "not yet seen"
    CHANGED = "changed after ingestion"
    ROWS_MISSING = "rows missing"

    @property
    def accounted(self) -> bool:
        return self not in (Fate.CHANGED, Fate.ROWS_MISSING)


@dataclass(frozen=True)
class LandedFile:
    """One file under a dataset's landing folder and what became of it."""

    path: Path  # relative to the dataset's landing folder
    size: int
    modified: dt.datetime
    fate: Fate
    records: int | None  # in the file as landed; None when not counted (ignored files)
    bronze_rows: int
    detail: str = ""


@dataclass(frozen=True)
class DatasetAudit:
    """The files of one dataset's landing folder.

    Example:
        >>> str(audit)  # doctest: +SKIP
        'crm.orders: 4 files: 3 ingested (51 rows), 1 ignored: ok'
    """

    source_system: str
    dataset: str
    files: tuple[LandedFile, ...]

    @property
    def unaccounted(self) -> list[LandedFile]:
        return [f for f in self.files if not f.fate.accounted]

    @property
    def holds(self) -> bool:
        return not self.unaccounted

    def __str__(self) -> str:
        counts = Counter(f.fate for f in self.files)
        rows = sum(f.bronze_rows for f in self.files if f.fate is Fate.INGESTED)
        parts = [
            f"{counts[fate]} {fate}" + (f" ({rows} rows)" if fate is Fate.INGESTED else "")
            for fate in Fate
            if counts[fate]
        ]
        verdict = "ok" if self.holds else f"{len(self.unaccounted)} unaccounted for"
        listed = ", ".join(parts) or "no files"
        files = f"{len(self.files)} file" + ("" if len(self.files) == 1 else "s")
        return f"{self.source_system}.{self.dataset}: {files}: {listed}: {verdict}"


def audit_landing(
    contracts: list[DataContract], *, storage: Path, landing: Path, env: str = "dev"
) -> list[DatasetAudit]:
    """Reconcile the landing folder of each contract's dataset with the ingestion state and
    bronze under ``storage``.

    Example:
        >>> audits = audit_landing(domain.contracts, storage=Path(".lakehouse"),
        ...                        landing=Path(".lakehouse/landing"))  # doctest: +SKIP
        >>> [a.holds for a in audits]  # doctest: +SKIP
        [True, True]
    """
    seen = {path.resolve(): state for path, state in cloud_files_state(storage).items()}
    return [_audit(c, storage, landing, env, seen) for c in contracts]


def _audit(
    contract: DataContract, storage: Path, landing: Path, env: str, seen: dict[Path, SeenFile]
) -> DatasetAudit:
    folder = (landing / contract.source_system / contract.dataset).resolve()
    bronze = _bronze_rows_by_file(storage, bronze_table(contract, env))
    files = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []:
        relative = file.relative_to(folder)
        status = file.stat()
        rows, errors = bronze.get(file, (0, 0))
        taken = seen.get(file)
        fate, records, detail = _fate(
            file, relative, status.st_mtime_ns, taken, rows, errors, contract
        )
        modified = dt.datetime.fromtimestamp(status.st_mtime, dt.UTC)
        files.append(LandedFile(relative, status.st_size, modified, fate, records, rows, detail))
    return DatasetAudit(contract.source_system, contract.dataset, tuple(files))


def _fate(
    file: Path,
    relative: Path,
    modified_ns: int,
    taken: SeenFile | None,
    rows: int,
    errors: int,
    contract: DataContract,
) -> tuple[Fate, int | None, str]:
    if is_hidden(relative):
        return Fate.IGNORED, None, "its name, or a folder's, starts with _ or ."
    if taken is None or not taken.committed:
        return Fate.NOT_SEEN, None, ""
    if modified_ns // 1_000_000 != taken.modified_ms:
        when = dt.datetime.fromtimestamp(taken.modified_ms / 1000, dt.UTC)
        read = f"read as modified at {when:%Y-%m-%d %H:%M:%S} UTC"
        if contract.allow_overwrites:
            return Fate.NOT_SEEN, None, f"changed since it was {read}: the next update reads it"
        detail = f"{read}; land changes under a new name, or set allowOverwrites in the contract"
        return Fate.CHANGED, None, detail
    records = _records(file, contract)
    if rows != records:
        detail = f"the file holds {records} records, bronze {rows} rows from it"
        return Fate.ROWS_MISSING, records, detail
    if errors:
        return Fate.UNREADABLE, records, "quarantined in silver as file_readable"
    return Fate.INGESTED, records, ""


def _records(file: Path, contract: DataContract) -> int:
    if contract.file_format == "parquet":
        import pyarrow.parquet as pq

        return pq.read_metadata(file).num_rows
    options = {"encoding": contract.encoding, "header": "true"}  # as bronze reads
    return len(file_records(str(file), file.read_bytes(), contract.file_format, options))


def _bronze_rows_by_file(storage: Path, table: str) -> dict[Path, tuple[int, int]]:
    """Bronze's rows from each source file's last reading (a file changed in place may have
    been read again): (rows, rows saying the file could not be read)."""
    catalog, name = LocalCatalog(storage), TableName.parse(table, "", "")
    if not catalog.exists(name):
        return {}
    columns = [SOURCE_FILE, INGESTED_AT, RESCUED]
    rows = catalog.table(name).read_arrow(columns=columns)
    # Each reading of a file is one micro-batch: one ingestion time for all its rows.
    readings: dict[Path, dict[dt.datetime, tuple[int, int]]] = {}
    marker = f'"{FILE_ERROR}"'
    values = (rows.column(c).to_pylist() for c in columns)
    for source, ingested_at, rescued in zip(*values, strict=True):
        by_time = readings.setdefault(local_path(source).resolve(), {})
        total, errors = by_time.get(ingested_at, (0, 0))
        by_time[ingested_at] = (total + 1, errors + (rescued is not None and marker in rescued))
    return {file: by_time[max(by_time)] for file, by_time in readings.items()}


def save_audit(
    audits: list[DatasetAudit], *, storage: Path, env: str = "dev", at: dt.datetime | None = None
) -> Path:
    """Append the audit to the Delta table ``<env>_platform.monitoring.landing_audit`` (one row
    per file and audit), for monitoring; returns the table's folder.

    Example:
        >>> save_audit(audits, storage=Path(".lakehouse"))  # doctest: +SKIP
        PosixPath('.lakehouse/catalog/dev_platform/monitoring/landing_audit')
    """
    import pyarrow as pa

    at = at or dt.datetime.now(dt.UTC)
    rows = [
        {
            "audited_at": at,
            "source_system": audit.source_system,
            "dataset": audit.dataset,
            "file": str(f.path),
            "size": f.size,
            "modified_at": f.modified,
            "fate": str(f.fate),
            "accounted": f.fate.accounted,
            "records": f.records,
            "bronze_rows": f.bronze_rows,
            "detail": f.detail,
        }
        for audit in audits
        for f in audit.files
    ]
    schema = pa.schema(
        [
            ("audited_at", pa.timestamp("us", tz="UTC")),
            ("source_system", pa.string()),
            ("dataset", pa.string()),
            ("file", pa.string()),
            ("size", pa.int64()),
            ("modified_at", pa.timestamp("us", tz="UTC")),
            ("fate", pa.string()),
            ("accounted", pa.bool_()),
            ("records", pa.int64()),
            ("bronze_rows", pa.int64()),
            ("detail", pa.string()),
        ]
    )
    table = LocalCatalog(storage).table(TableName.parse(monitoring_table(env, AUDIT_TABLE), "", ""))
    table.append(pa.Table.from_pylist(rows, schema=schema))
    if CLASSIFICATION not in table.properties():
        # File names and why a file could not be read: no record's values.
        table.set_properties({CLASSIFICATION: "general"})
    return table.path

"""Where the operational checks (freshness, quality trends, failed pipelines) read what happened,
and where they keep their results: a local storage folder (``lakehouse monitor``) or a
Databricks workspace (each domain's monitoring job, ``monitoring_job.py``). Both answer the
same questions, so the checks are the same code in both places:

- when a table last changed rows (its commit history, ``DESCRIBE HISTORY`` in a workspace);
- the events of a pipeline's event log (published to ``<catalog>.<schema>.event_log``);
- when files last landed for a dataset, and the oldest one ingestion has not read yet;
- the tables of a schema, the updates a results table holds, and appending results.

Example:
    >>> observed = LocalObservations(Path(".lakehouse"))  # doctest: +SKIP
    >>> observed.changed_at("dev_silver.crm.orders")  # doctest: +SKIP
    datetime.datetime(2026, 12, 7, 8, 35, 12, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from lakehouse.contracts import DataContract
from lakehouse.engine.graph.names import TableName, split_identifier
from lakehouse.engine.sources.landed_records import is_hidden
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.ingestion.bronze import INGESTED_AT, SOURCE_FILE
from lakehouse.ingestion.landing_audit import DatasetAudit, Fate, audit_landing
from lakehouse.operations.event_logs import Event, events_from_rows, read_events
from lakehouse.sql_quoting import quote_identifier, quote_string

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

# Commit metrics that say a commit changed rows (a streaming batch may commit none).
_CHANGED = ("numOutputRows", "numTargetRowsInserted", "numTargetRowsUpdated",
            "numTargetRowsDeleted", "numTargetRowsCopied", "numAddedFiles", "numRemovedFiles")  # fmt: skip
_HISTORY_DEPTH = 100  # commits looked at for the newest that changed rows


@dataclass(frozen=True)
class LandingState:
    """A dataset's landing folder: the newest file, and the oldest ingestion has not read."""

    landed: dt.datetime | None
    waiting_since: dt.datetime | None


class Observations(Protocol):
    """What the operational checks read and write, wherever the tables are."""

    def changed_at(self, table: str) -> dt.datetime | None:
        """When ``table`` last changed rows (its creation when it never did); None when there
        is no such table."""
        ...

    def tables(self, catalog: str, schema: str) -> list[str]:
        """The tables of a schema, fully qualified."""
        ...

    def events(self, event_log: str) -> list[Event]:
        """Every event of a pipeline's event log, oldest first; none when there is none."""
        ...

    def landing(self, contract: DataContract, env: str, schema_prefix: str) -> LandingState: ...

    def recorded_updates(self, table: str) -> set[str]:
        """The update ids a results table holds (none when it does not exist)."""
        ...

    def append(self, table: str, rows: pa.Table) -> None: ...


def last_change(commits: Iterable[tuple[dt.datetime, Mapping[str, Any]]]) -> dt.datetime | None:
    """The newest commit (of ``(time, operation metrics)``, newest first) that changed rows, or
    the oldest seen when none did.

    Example:
        >>> at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        >>> last_change([(at.replace(hour=2), {"numOutputRows": "0"}), (at, {"numOutputRows": "3"})]) == at
        True
    """
    oldest = None
    for at, metrics in commits:
        if any(str(metrics.get(key, "0")) not in ("0", "") for key in _CHANGED):
            return at
        oldest = at
    return oldest


@dataclass
class LocalObservations:
    """A local storage folder: tables and event logs under ``storage/catalog``, landed files
    under ``landing`` (``<storage>/landing`` when None), reconciled by the landing audit."""

    storage: Path
    landing_root: Path | None = None

    def __post_init__(self) -> None:
        self.catalog = LocalCatalog(self.storage)
        self.landing_root = self.landing_root or self.storage / "landing"
        self._events: dict[str, list[Event]] = {}  # each event log read once per check
        self._audits: dict[tuple[str, str], DatasetAudit] = {}

    def _name(self, table: str) -> TableName:
        return TableName.parse(table, "", "")

    def changed_at(self, table: str) -> dt.datetime | None:
        name = self._name(table)
        if not self.catalog.exists(name):
            return None
        commits = (
            (
                dt.datetime.fromtimestamp(int(i.get("timestamp", 0)) / 1000, dt.UTC),
                i.get("operationMetrics") or {},
            )
            for i in self.catalog.table(name).commit_infos()
        )
        return last_change(commits)

    def tables(self, catalog: str, schema: str) -> list[str]:
        return sorted(str(t) for t in self.catalog.tables() if (t.catalog, t.schema) == (catalog, schema))  # fmt: skip

    def events(self, event_log: str) -> list[Event]:
        if event_log not in self._events:
            self._events[event_log] = read_events(self.catalog, self._name(event_log))
        return self._events[event_log]

    def audit(self, contract: DataContract, env: str) -> DatasetAudit:
        """The landing audit of the contract's dataset (``ingestion/landing_audit.py``), once."""
        key = (contract.id, env)
        if key not in self._audits:
            assert self.landing_root is not None
            (self._audits[key],) = audit_landing([contract], storage=self.storage, landing=self.landing_root, env=env)  # fmt: skip
        return self._audits[key]

    def landing(self, contract: DataContract, env: str, schema_prefix: str = "") -> LandingState:
        audit = self.audit(contract, env)
        files = [f for f in audit.files if f.fate is not Fate.IGNORED]
        unseen = [f.modified for f in files if f.fate is Fate.NOT_SEEN]
        return LandingState(max((f.modified for f in files), default=None), min(unseen, default=None))  # fmt: skip

    def recorded_updates(self, table: str) -> set[str]:
        name = self._name(table)
        if not self.catalog.exists(name):
            return set()
        return set(self.catalog.table(name).read_arrow(["update_id"]).column("update_id").to_pylist())  # fmt: skip

    def append(self, table: str, rows: pa.Table) -> None:
        target = self.catalog.table(self._name(table))
        target.path.mkdir(parents=True, exist_ok=True)
        target.append(rows)


@dataclass
class WorkspaceObservations:
    """A Databricks workspace: SQL through the job's Spark session (``run_sql`` returns a
    DataFrame), schemas and landing volumes through databricks-sdk (Unity Catalog's tables,
    the Files API), and results appended by ``write`` (``saveAsTable`` in the job)."""

    run_sql: Callable[[str], Any]
    client: WorkspaceClient
    write: Callable[[str, pa.Table], None]
    _events: dict[str, list[Event]] = field(default_factory=dict)  # each log read once

    def _rows(self, query: str) -> list[dict[str, Any]] | None:
        """The query's rows, or None when a table it names does not exist."""
        try:
            return [row.asDict(recursive=True) for row in self.run_sql(query).collect()]
        except Exception as error:
            if _missing(error):
                return None
            raise

    def changed_at(self, table: str) -> dt.datetime | None:
        rows = self._rows(f"DESCRIBE HISTORY {_quoted(table)} LIMIT {_HISTORY_DEPTH}")
        if rows is None:
            return None
        commits = sorted(((_utc(r["timestamp"]), r.get("operationMetrics") or {}) for r in rows), key=lambda c: c[0], reverse=True)  # fmt: skip
        return last_change(commits)

    def tables(self, catalog: str, schema: str) -> list[str]:
        try:
            listed = list(self.client.tables.list(catalog_name=catalog, schema_name=schema))
        except Exception as error:
            if _missing(error):
                return []
            raise
        return sorted(f"{catalog}.{schema}.{t.name}" for t in listed if t.name)

    def events(self, event_log: str) -> list[Event]:
        if event_log in self._events:
            return self._events[event_log]
        rows = self._rows(
            "SELECT timestamp, event_type, level, message, origin, details FROM "
            f"{_quoted(event_log)} WHERE event_type IN ('create_update', 'update_progress', "
            "'flow_progress', 'dataset_definition', 'flow_definition')"
        )
        events = events_from_rows({**r, "timestamp": _utc(r["timestamp"])} for r in rows or [])
        self._events[event_log] = events
        return events

    def landing(self, contract: DataContract, env: str, schema_prefix: str = "") -> LandingState:
        from lakehouse.ingestion.settings import bronze_table

        folder = f"/Volumes/{env}_landing/{contract.source_system}/{contract.dataset}"
        files = dict(self._files(folder))
        if not files:
            return LandingState(None, None)
        # Only files newer than bronze's last change may be unread: look those up in bronze.
        bronze = bronze_table(contract, env, schema_prefix)
        since = self.changed_at(bronze)
        recent = {path: at for path, at in files.items() if since is None or at >= since - dt.timedelta(hours=1)}  # fmt: skip
        seen: set[str] = set()
        if recent and since is not None:
            oldest = min(recent.values()) - dt.timedelta(days=1)
            query = (
                f"SELECT DISTINCT {quote_identifier(SOURCE_FILE)} AS file FROM {_quoted(bronze)} "
                f"WHERE {quote_identifier(INGESTED_AT)} >= {quote_string(oldest.isoformat())}"
            )
            seen = {_volume_path(r["file"]) for r in self._rows(query) or [] if r["file"]}
        unseen = [at for path, at in recent.items() if path not in seen]
        return LandingState(max(files.values()), min(unseen, default=None))

    def _files(self, folder: str) -> Iterable[tuple[str, dt.datetime]]:
        """Every file under ``folder`` that Auto Loader would read, with its modification time."""
        try:
            entries = list(self.client.files.list_directory_contents(folder))
        except Exception as error:
            if _missing(error):
                return
            raise
        for entry in entries:
            path = (entry.path or "").rstrip("/")
            if is_hidden(PurePosixPath(path).name):
                continue
            if entry.is_directory:
                yield from self._files(path)
            else:
                yield path, dt.datetime.fromtimestamp((entry.last_modified or 0) / 1000, dt.UTC)

    def recorded_updates(self, table: str) -> set[str]:
        rows = self._rows(f"SELECT DISTINCT update_id FROM {_quoted(table)}") or []
        return {r["update_id"] for r in rows}

    def append(self, table: str, rows: pa.Table) -> None:
        self.write(table, rows)


def _quoted(name: str) -> str:
    return ".".join(quote_identifier(part) for part in split_identifier(name))


def _utc(at: dt.datetime) -> dt.datetime:
    """Spark hands timestamps back naive, in the session's time zone: the job sets UTC."""
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _volume_path(file: str) -> str:
    """``dbfs:/Volumes/...`` or ``file:/Volumes/...`` (as Auto Loader names files) as a path."""
    for scheme in ("dbfs:", "file:"):
        if file.startswith(scheme):
            return file.removeprefix(scheme)
    return file


def _missing(error: Exception) -> bool:
    """Whether ``error`` says a table, schema or folder does not exist (Spark's error classes,
    the REST API's NOT_FOUND), which the checks read as "nothing there yet"."""
    from databricks.sdk.errors import NotFound

    if isinstance(error, NotFound):
        return True
    text = str(error)
    return any(code in text for code in ("TABLE_OR_VIEW_NOT_FOUND", "SCHEMA_NOT_FOUND", "DELTA_MISSING_DELTA_TABLE", "is not a Delta table"))  # fmt: skip

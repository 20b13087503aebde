"""Disaster recovery of a storage folder: a backup holds a consistent copy of every Delta table
(each at the version it had when the backup started: later commits are left out), the
pipelines' state (stream checkpoints, Auto Loader and AUTO CDC state), the landing folder and
MLflow's store, with a manifest of each table's version and checksum. A restore brings it back
into an empty folder and checks every table against the manifest. A drill measures the whole
way: back up, destroy, restore, run the pipelines again, compare every table's checksum, and
report the RPO (how old the restored data is when the disaster strikes) and the RTO (how long
until the platform is usable again).

A backup is taken while no update runs (the local engine runs one command at a time); on
Databricks the scheduled deep clone to a secondary catalog does the same per table.

Example:
    >>> backup(Path(".lakehouse"), Path("/backups/2026-12-07")).tables["dev_silver.crm.orders"].version  # doctest: +SKIP
    4
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from pyspark.sql import SparkSession

from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.engine.storage.delta_table import LOG_FOLDER

MANIFEST = "backup.json"
# What a storage folder holds besides the catalog, all kept: the pipelines' state, the landing
# folder (files not ingested yet are data too), MLflow's store. Replay copies are left out.
KEPT = ("catalog", "pipelines", "landing", "mlflow")


class RecoveryError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class TableBackup:
    """One table in a backup: its version and content checksum (rows, and an order-free hash
    of them)."""

    version: int
    rows: int
    checksum: str
    newest_commit: str  # ISO time of the version's commit


@dataclass(frozen=True)
class Backup:
    """A backup folder's manifest."""

    taken_at: str
    source: str
    tables: dict[str, TableBackup]

    @property
    def newest_data(self) -> dt.datetime:
        """When the newest data in the backup was committed (its age is the RPO)."""
        times = [dt.datetime.fromisoformat(t.newest_commit) for t in self.tables.values()]
        return max(times, default=dt.datetime.fromisoformat(self.taken_at))

    @classmethod
    def read(cls, folder: Path) -> Backup:
        file = folder / MANIFEST
        if not file.is_file():
            raise RecoveryError(f"{folder} is no backup: it has no {MANIFEST}")
        data = json.loads(file.read_text())
        tables = {name: TableBackup(**t) for name, t in data["tables"].items()}
        return cls(data["taken_at"], data["source"], tables)


def table_checksum(spark: SparkSession, path: Path) -> tuple[int, str]:
    """A Delta table's rows and an order-free checksum of them.

    Example:
        >>> table_checksum(spark, Path(".lakehouse/catalog/dev_gold/sales/daily_revenue"))  # doctest: +SKIP
        (14, '-3981293482931')
    """
    frame = spark.read.format("delta").load(str(path))
    if not frame.columns:
        return 0, "0"
    # An exact sum (DECIMAL): a BIGINT sum of the row hashes would overflow.
    hashed = "coalesce(sum(CAST(xxhash64(*) AS DECIMAL(38, 0))), 0) AS h"
    row = frame.selectExpr("count(*) AS n", hashed).first()
    return int(row["n"]), str(row["h"])


def checksums(spark: SparkSession, storage: Path) -> dict[str, tuple[int, str]]:
    """Every data table of the storage folder's catalog, with its rows and checksum: not the
    event logs and monitoring tables, which every run appends to."""
    catalog = LocalCatalog(storage)
    return {
        str(t): table_checksum(spark, catalog.table(t).path)
        for t in catalog.tables()
        if t.table != "event_log" and t.schema != "monitoring"
    }


def backup(storage: Path, to: Path, spark: SparkSession) -> Backup:
    """Copy ``storage`` into the new folder ``to``: every table at its current version, the
    pipelines' state, landing and MLflow; write the manifest last (a folder without one is no
    backup).

    Example:
        >>> backup(Path(".lakehouse"), Path("/backups/today"), spark).taken_at  # doctest: +SKIP
        '2026-12-07T07:30:00+00:00'
    """
    if to.exists() and any(to.iterdir()):
        raise RecoveryError(f"{to} exists and is not empty: name a new folder")
    catalog = LocalCatalog(storage)
    if not catalog.root.is_dir():
        raise RecoveryError(f"{storage} holds no catalog: nothing to back up")
    taken_at = dt.datetime.now(dt.UTC)
    versions = {t: catalog.table(t).version() for t in catalog.tables()}
    for part in KEPT:
        if (storage / part).is_dir():
            shutil.copytree(storage / part, to / part, ignore=_later_commits(storage, versions))
    tables = {}
    for name, version in versions.items():
        copy = LocalCatalog(to).table(name)
        rows, checksum = table_checksum(spark, copy.path)
        newest = next(copy.commit_infos(), {}).get("timestamp", 0)
        committed = dt.datetime.fromtimestamp(int(newest) / 1000, dt.UTC).isoformat()
        tables[str(name)] = TableBackup(version, rows, checksum, committed)
    manifest = Backup(taken_at.isoformat(), str(storage.resolve()), tables)
    (to / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2))
    return manifest


def _later_commits(storage: Path, versions: dict[TableName, int]) -> Callable[[str, list[str]], list[str]]:  # fmt: skip
    """A copytree filter leaving out commits after the version each table had at the start."""
    logs = {LocalCatalog(storage).table(t).path / LOG_FOLDER: v for t, v in versions.items()}

    def ignore(folder: str, names: list[str]) -> list[str]:
        version = logs.get(Path(folder))
        if version is None:
            return []
        return [n for n in names if n.split(".")[0].isdigit() and int(n.split(".")[0]) > version]

    return ignore


def restore(source: Path, storage: Path, spark: SparkSession) -> Backup:
    """Restore the backup in ``source`` into ``storage`` (absent or empty), then check every
    table's version and checksum against the manifest.

    Example:
        >>> restore(Path("/backups/today"), Path(".lakehouse"), spark).taken_at  # doctest: +SKIP
    """
    manifest = Backup.read(source)
    if storage.exists() and any(storage.iterdir()):
        raise RecoveryError(f"{storage} exists and is not empty: restore into an empty folder")
    if storage.resolve() != Path(manifest.source):
        # The pipelines' state names landed files by their absolute paths: elsewhere, every
        # file would look new and be ingested twice.
        raise RecoveryError(f"the backup is of {manifest.source}: restore it there (the pipelines' state names its files)")  # fmt: skip
    for part in KEPT:
        if (source / part).is_dir():
            shutil.copytree(source / part, storage / part)
    catalog = LocalCatalog(storage)
    for name, expected in manifest.tables.items():
        table = catalog.table(TableName.parse(name, "", ""))
        found = (table.version(), *table_checksum(spark, table.path))
        if found != (expected.version, expected.rows, expected.checksum):
            raise RecoveryError(f"{name} restored as version {found[0]} with {found[1]} rows, not as backed up (version {expected.version}, {expected.rows} rows)")  # fmt: skip
    return manifest


@dataclass(frozen=True)
class Drill:
    """What a drill measured."""

    tables: int
    differing: list[str]  # tables whose checksum after the rerun is not the one before
    rpo: dt.timedelta  # how old the restored data was when the disaster struck
    rto: dt.timedelta  # from the disaster until the platform was usable again
    backup_seconds: float


def drill(storage: Path, backups: Path, spark: SparkSession, rerun: Callable[[], None]) -> Drill:
    """Back ``storage`` up into ``backups``, destroy it, restore it, run the pipelines again
    (``rerun``) and compare every table's checksum with the one before.

    Example:
        >>> drill(Path(".lakehouse"), Path("/tmp/drill"), spark, lambda: run_demo_pipelines()).rto  # doctest: +SKIP
    """
    before = checksums(spark, storage)
    started = time.perf_counter()
    manifest = backup(storage, backups, spark)
    backup_seconds = time.perf_counter() - started
    disaster = dt.datetime.now(dt.UTC)
    struck = time.perf_counter()
    shutil.rmtree(storage)
    restore(backups, storage, spark)
    rerun()
    after = checksums(spark, storage)
    rto = dt.timedelta(seconds=time.perf_counter() - struck)
    differing = sorted(n for n in before if after.get(n) != before[n])
    return Drill(len(before), differing, disaster - manifest.newest_data, rto, backup_seconds)

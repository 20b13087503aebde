"""AUTO CDC from snapshots: each new snapshot of a source, compared with what the target holds,
becomes change events that SCD type 1 or 2 applies like any AUTO CDC flow's.

As Databricks documents it: a key new in the snapshot is inserted, a key whose values changed
is updated (a key whose values did not is left alone), and a key the snapshot no longer has
is deleted. The snapshot's version is the events' sequence, so SCD2's ``__START_AT`` and
``__END_AT`` are snapshot versions. The source is a table or view, read once per update (its
version counts the snapshots taken), or a function ``f(latest_version) -> (DataFrame,
version) | None`` called until it returns None. The latest version applied is kept under the
flow's checkpoint; a full refresh removes it with the target.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.engine.errors import GraphError
from lakehouse.engine.graph.elements import SnapshotSource, SourceLocation
from lakehouse.engine.storage.local_files import write_atomically

VERSION = "__snapshot_version"
DELETED = "__snapshot_deleted"


def snapshot_events(
    snapshot: DataFrame, current: DataFrame, keys: tuple[str, ...], version: int
) -> DataFrame:
    """The change events that turn ``current`` (the target's rows, the snapshot's columns)
    into ``snapshot``: upserts of new and changed rows, deletes of vanished keys, at
    ``version``.

    Example:
        >>> snapshot_events(snapshot, current, ("id",), 2).columns  # doctest: +SKIP
        ['id', 'name', '__snapshot_version', '__snapshot_deleted']
    """
    columns = snapshot.columns
    values = [c for c in columns if c not in keys]
    new, old = snapshot.alias("new"), current.select(*columns).alias("old")
    same_key = [F.col(f"new.`{k}`").eqNullSafe(F.col(f"old.`{k}`")) for k in keys]
    joined = new.join(old, on=same_key, how="full_outer")
    in_new = F.coalesce(*[F.col(f"new.`{k}`").isNotNull() for k in keys], F.lit(False))
    in_old = F.coalesce(*[F.col(f"old.`{k}`").isNotNull() for k in keys], F.lit(False))
    changed = ~F.coalesce(
        F.struct(*[F.col(f"new.`{c}`") for c in values]).eqNullSafe(
            F.struct(*[F.col(f"old.`{c}`") for c in values])
        )
        if values
        else F.lit(True),
        F.lit(False),
    )
    upserts = joined.where(in_new & (~in_old | changed)).select(
        *[F.col(f"new.`{c}`").alias(c) for c in columns],
        F.lit(version).cast("long").alias(VERSION),
        F.lit(False).alias(DELETED),
    )
    deletes = joined.where(in_old & ~in_new).select(
        *[F.col(f"old.`{c}`").alias(c) for c in columns],
        F.lit(version).cast("long").alias(VERSION),
        F.lit(True).alias(DELETED),
    )
    return upserts.unionByName(deletes)


def with_event_columns(snapshot: DataFrame) -> DataFrame:
    """``snapshot`` with the event columns, empty: what the graph sees of a snapshot flow."""
    return snapshot.select(
        "*", F.lit(0).cast("long").alias(VERSION), F.lit(False).alias(DELETED)
    ).limit(0)


class SnapshotState:
    """The latest snapshot version a flow applied, in ``<checkpoint>/snapshot.json``."""

    def __init__(self, checkpoint: Path) -> None:
        self.file = checkpoint / "snapshot.json"

    def latest(self) -> int | None:
        if not self.file.is_file():
            return None
        return int(json.loads(self.file.read_text())["latest_version"])

    def applied(self, version: int) -> None:
        write_atomically(self.file, json.dumps({"latest_version": version}))


def next_snapshots(
    source: SnapshotSource,
    latest: int | None,
    read_table: Callable[[str], DataFrame],
    location: SourceLocation,
) -> Iterator[tuple[DataFrame, int]]:
    """The snapshots after ``latest``, oldest first, with their versions.

    Example:
        >>> list(next_snapshots(SnapshotSource(table="raw.customers"), 3, read, where))  # doctest: +SKIP
        [(DataFrame[...], 4)]
    """
    if source.table is not None:
        yield read_table(source.table), (latest or 0) + 1
        return
    assert source.function is not None
    while True:
        found = checked_snapshot(source.function(latest), latest, location)
        if found is None:
            return
        yield found
        latest = found[1]


def checked_snapshot(
    returned: Any, latest: int | None, location: SourceLocation
) -> tuple[DataFrame, int] | None:
    """What a snapshot function returned, if it is None or a later (DataFrame, version)."""
    if returned is None:
        return None
    if not (isinstance(returned, tuple) and len(returned) == 2):
        raise GraphError(
            "a snapshot function must return (DataFrame, version) or None, "
            f"got {type(returned).__name__}",
            location,
        )
    frame, version = returned
    if not isinstance(frame, DataFrame) or not isinstance(version, int):
        raise GraphError(
            "a snapshot function must return (DataFrame, version) with an int version, got "
            f"({type(frame).__name__}, {type(version).__name__})",
            location,
        )
    if latest is not None and version <= latest:
        raise GraphError(
            f"a snapshot function returned version {version} after {latest}: versions "
            "must increase",
            location,
        )
    return frame, version

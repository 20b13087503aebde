"""SCD type 1: each key's row is the one from its latest change event; deletes remove it.

The target holds exactly the user's columns. Beside it, a small state table keeps, per key,
the sequence of the last event applied and whether it was a delete (a tombstone), so an
event older than what the target already reflects is ignored, in the same micro-batch or a
later run. Each micro-batch is two MERGEs, the target then the state. Both are idempotent by
construction: a batch replayed after a crash between them finds its events no newer than
what they already wrote, or writes the same values again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import deltalake
import pyarrow as pa
import pyarrow.compute as pc
from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, StructField, StructType

from lakehouse.engine.change_detection import never_written
from lakehouse.engine.change_events import (
    DELETE,
    DIFFERENT_COPIES,
    SEQUENCE,
    TRUNCATE,
    ResolvedAutoCdc,
    reject,
    sequence_order,
)
from lakehouse.engine.delta_merge import (
    MergeClauses,
    Quote,
    keyed_rows,
    merge_frame,
    merge_rows,
    rows_with_keys,
)
from lakehouse.engine.driver_writes import FOLD_MAX_EVENTS
from lakehouse.engine.scd1_latest import FILL, latest_per_key
from lakehouse.engine.state_tables import upsert_by_keys
from lakehouse.engine.table_setup import ensure_table

APPLIED = "__applied_seq"
DELETED = "__deleted"
TRUNCATED_AT = "__truncated_at"


def scd1_apply(
    session: SparkSession,
    events: DataFrame,
    cdc: ResolvedAutoCdc,
    target: Path,
    state: Path,
    in_driver: bool,
) -> dict[str, int]:
    """Apply one micro-batch of change events, in the driver or in Spark (see
    ``delta_merge.py``); returns the rows upserted and deleted.

    Example:
        >>> scd1_apply(spark, change_events(batch, cdc), cdc, target_path,
        ...            state_path, in_driver=True)  # doctest: +SKIP
        {'num_upserted_rows': 3, 'num_deleted_rows': 1}
    """
    _ensure_state(session, cdc, state)
    if in_driver:
        rows = events.toArrow()
        if rows.num_rows <= FOLD_MAX_EVENTS:
            return _apply_in_driver(rows, cdc, target, state)
    if cdc.spec.apply_as_truncates is not None:
        events = _apply_truncates(session, events, cdc, target, state)
    if not never_written(state):  # nothing applied yet: every event is new
        keys = events.select(*cdc.keys).distinct()
        applied = rows_with_keys(
            session, state, keys, _state_schema(cdc), in_driver=in_driver
        ).select(*cdc.keys, F.col(SEQUENCE).alias(APPLIED))
        events = events.join(applied, list(cdc.keys), "left").where(
            F.col(APPLIED).isNull() | (F.col(SEQUENCE) > F.col(APPLIED))
        )
    latest = _latest_per_key(events, cdc)
    if in_driver:
        rows = latest.toArrow()
        done = merge_rows(target, rows, lambda q: _clauses(cdc, q))
    else:
        latest = latest.persist()
        try:
            done = merge_frame(target, latest, lambda q: _clauses(cdc, q))
            rows = latest.select(*cdc.keys, SEQUENCE, DELETE).toArrow()
        finally:
            latest.unpersist()
    _record_applied(state, rows, cdc)
    return done


def _apply_in_driver(
    events: pa.Table, cdc: ResolvedAutoCdc, target: Path, state: Path
) -> dict[str, int]:
    if cdc.spec.apply_as_truncates is not None:
        events = _truncated_in_driver(events, cdc, target, state)
    applied: dict[tuple[Any, ...], Any] = {}
    if events.num_rows and not never_written(state):
        keys = list(cdc.keys)
        stored = keyed_rows(
            state, events.select(keys).group_by(keys).aggregate([]), [*keys, SEQUENCE]
        )
        found = zip(*(stored.column(k).to_pylist() for k in keys), strict=True)
        applied = dict(zip(found, stored.column(SEQUENCE).to_pylist(), strict=True))
    rows = latest_per_key(events, cdc, applied)
    done = merge_rows(target, rows, lambda q: _clauses(cdc, q))
    _record_applied(state, rows, cdc)
    return done


def _record_applied(state: Path, rows: pa.Table, cdc: ResolvedAutoCdc) -> None:
    """Each applied key's sequence and whether it was deleted."""
    applied = rows.select([*cdc.keys, SEQUENCE, DELETE])
    upsert_by_keys(state, applied.rename_columns([*cdc.keys, SEQUENCE, DELETED]), cdc.keys)


def _clauses(cdc: ResolvedAutoCdc, q: Quote) -> MergeClauses:
    return MergeClauses(
        on=_on(cdc, q),
        delete_when=f"s.{DELETE}",
        update_set={q(c): _new_value(cdc, c, q) for c in cdc.values},
        insert_when=f"NOT s.{DELETE}",
        insert_values={q(c): f"s.{q(c)}" for c in cdc.columns},
    )


def _on(cdc: ResolvedAutoCdc, q: Quote) -> str:
    return " AND ".join(f"t.{q(k)} = s.{q(k)}" for k in cdc.keys)


def _new_value(cdc: ResolvedAutoCdc, column: str, q: Quote) -> str:
    if cdc.spec.ignore_null_updates:
        # NULL in an update keeps the stored value, unless a delete came first in the batch.
        return (
            f"CASE WHEN s.{FILL} THEN coalesce(s.{q(column)}, t.{q(column)}) ELSE s.{q(column)} END"
        )
    return f"s.{q(column)}"


def _latest_per_key(events: DataFrame, cdc: ResolvedAutoCdc) -> DataFrame:
    """One row per key: its latest event (with ``ignore_null_updates``, the non-NULL values of
    the updates since the batch's last delete of the key). Two different events with the same
    key and sequence stop the update; identical ones count once."""
    newest_first = Window.partitionBy(*cdc.keys).orderBy(F.col(SEQUENCE).desc())
    payload = F.struct(*[F.col(f"`{c}`") for c in cdc.columns], F.col(DELETE))
    conflict = (F.lead(SEQUENCE).over(newest_first) == F.col(SEQUENCE)) & ~F.lead(payload).over(
        newest_first
    ).eqNullSafe(payload)
    record = F.to_json(F.struct(*[F.col(f"`{c}`") for c in cdc.columns], F.col(SEQUENCE)))
    problem = reject(cdc, DIFFERENT_COPIES, record)
    ranked = events.select(
        "*",
        F.row_number().over(newest_first).alias("__rank"),
        F.when(conflict, problem).alias("__conflict"),
        *_merged_values(cdc, newest_first),
    )
    latest = ranked.where(F.coalesce(F.col("__conflict"), F.col("__rank") == 1))
    if not cdc.spec.ignore_null_updates:
        return latest.select(*cdc.columns, SEQUENCE, DELETE)
    merged = [F.col(f"__merged_{c}").alias(c) for c in cdc.values]
    return latest.select(*cdc.keys, *merged, SEQUENCE, DELETE, FILL)


def _merged_values(cdc: ResolvedAutoCdc, newest_first: Window) -> list[Column]:
    if not cdc.spec.ignore_null_updates:
        return []
    whole_key = Window.partitionBy(*cdc.keys)
    last_delete = F.max(F.when(F.col(DELETE), F.col(SEQUENCE))).over(whole_key)
    after_delete = ~F.col(DELETE) & (last_delete.isNull() | (F.col(SEQUENCE) > last_delete))
    everything = newest_first.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    return [
        *[
            F.first(F.when(after_delete, F.col(f"`{c}`")), ignorenulls=True)
            .over(everything)
            .alias(f"__merged_{c}")
            for c in cdc.values
        ],
        last_delete.isNull().alias(FILL),
    ]


def _apply_truncates(
    session: SparkSession,
    events: DataFrame,
    cdc: ResolvedAutoCdc,
    target: Path,
    state: Path,
) -> DataFrame:
    """A truncate at sequence T removes every row whose last event is older than T; events
    older than T are ignored. Returns the batch's remaining events."""
    truncate = events.where(F.col(TRUNCATE)).agg(F.max(SEQUENCE).alias(TRUNCATED_AT))
    if truncate.first()[TRUNCATED_AT] is None:
        return events.where(~F.col(TRUNCATE))
    state_rows = session.read.format("delta").load(str(state))
    older = state_rows.crossJoin(truncate).where(F.col(SEQUENCE) < F.col(TRUNCATED_AT))
    matches = " AND ".join(f"t.`{k}` = s.`{k}`" for k in cdc.keys)
    DeltaTable.forPath(session, str(target)).alias("t").merge(
        older.where(~F.col(DELETED)).alias("s"), matches
    ).whenMatchedDelete().execute()
    DeltaTable.forPath(session, str(state)).alias("t").merge(
        older.alias("s"), matches
    ).whenMatchedUpdate(set={SEQUENCE: f"s.{TRUNCATED_AT}", DELETED: "true"}).execute()
    return (
        events.crossJoin(truncate)
        .where(~F.col(TRUNCATE) & (F.col(SEQUENCE) > F.col(TRUNCATED_AT)))
        .drop(TRUNCATED_AT)
    )


def _truncated_in_driver(
    events: pa.Table, cdc: ResolvedAutoCdc, target: Path, state: Path
) -> pa.Table:
    """``_apply_truncates`` in the driver."""
    truncating = events.column(TRUNCATE)
    truncates = events.filter(truncating).column(SEQUENCE).to_pylist()
    events = events.filter(pc.invert(truncating))
    if not truncates:
        return events
    at = max(truncates, key=sequence_order)
    if not never_written(state):
        stored = deltalake.DeltaTable(str(state)).to_pyarrow_table()
        limit = sequence_order(at)
        older = stored.filter(pa.array([o < limit for o in _orders(stored)], pa.bool_()))
        gone = older.filter(pc.invert(older.column(DELETED))).select(list(cdc.keys))
        merge_rows(target, gone, lambda q: MergeClauses(on=_on(cdc, q), delete_when="true"))
        sequence_type = stored.schema.field(SEQUENCE).type
        tombstones = older.set_column(
            older.schema.get_field_index(SEQUENCE),
            SEQUENCE,
            pa.array([at] * older.num_rows, sequence_type),
        ).set_column(
            older.schema.get_field_index(DELETED),
            DELETED,
            pa.array([True] * older.num_rows, pa.bool_()),
        )
        upsert_by_keys(state, tombstones, cdc.keys)
    limit = sequence_order(at)
    return events.filter(pa.array([o > limit for o in _orders(events)], pa.bool_()))


def _orders(rows: pa.Table) -> list[tuple[Any, ...]]:
    return [sequence_order(s) for s in rows.column(SEQUENCE).to_pylist()]


def _ensure_state(session: SparkSession, cdc: ResolvedAutoCdc, state: Path) -> None:
    ensure_table(session, state, None, _state_schema(cdc))


def _state_schema(cdc: ResolvedAutoCdc) -> StructType:
    return StructType(
        [
            *[cdc.source_schema[k] for k in cdc.keys],
            StructField(SEQUENCE, cdc.sequence_type),
            StructField(DELETED, BooleanType()),
        ]
    )

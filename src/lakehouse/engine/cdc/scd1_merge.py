"""SCD type 1: each key's row is the one from its latest change event; deletes remove it.

The target holds exactly the user's columns. Beside it, a state table records, per key and
micro-batch, the sequence of the last event applied and whether it was a delete (a
tombstone); a key's newest record says what the target reflects, so an older event is ignored,
in the same micro-batch or a later run. Each micro-batch is a MERGE into the target, then an
append to the state (an append, not a MERGE: it does not rewrite the state's files, like the
SCD2 event store). Both are idempotent: a batch replayed after a crash between them writes
the same values into the target again, and the append carries a transaction id.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, StructField, StructType

from lakehouse.engine.cdc.events import (
    DELETE,
    DIFFERENT_COPIES,
    SEQUENCE,
    TRUNCATE,
    ChangeBatch,
    ResolvedAutoCdc,
    reject,
    sequence_order,
)
from lakehouse.engine.cdc.scd1_latest import FILL, latest_per_key
from lakehouse.engine.storage.delta_table import LocalDeltaTable, MergeClauses, Quote
from lakehouse.engine.storage.driver_writes import Placement
from lakehouse.engine.storage.table_setup import ensure_table

APPLIED = "__applied_seq"
DELETED = "__deleted"
TRUNCATED_AT = "__truncated_at"


def scd1_apply(
    batch: ChangeBatch, cdc: ResolvedAutoCdc, target: LocalDeltaTable, state: LocalDeltaTable
) -> dict[str, int]:
    """Apply ``batch`` where its placement says (see ``driver_writes.py``) to ``target``,
    with the applied keys' state in ``state``; returns the rows upserted and deleted.

    Example:
        >>> scd1_apply(ChangeBatch(events, 7, "lakehouse:crm:users", Placement.PYTHON), cdc,
        ...            target, state)  # doctest: +SKIP
        {'num_upserted_rows': 3, 'num_deleted_rows': 1}
    """
    session, events = batch.session, batch.events
    _ensure_state(session, cdc, state)
    if batch.placement is Placement.PYTHON:
        done, applied = _apply_in_python(events.toArrow(), cdc, target, state)
    else:
        done, applied = _apply_with_spark(
            session, events, cdc, target, state, batch.placement is Placement.DELTA_RS
        )
    state.append_once(applied, f"{batch.app_id}:keys", batch.batch_id)
    return done


def _apply_with_spark(
    session: SparkSession,
    events: DataFrame,
    cdc: ResolvedAutoCdc,
    target: LocalDeltaTable,
    state: LocalDeltaTable,
    in_driver: bool,
) -> tuple[dict[str, int], pa.Table]:
    tombstones = None
    if cdc.spec.apply_as_truncates is not None:
        events, tombstones = _apply_truncates(session, events, cdc, target, state)
    if not state.never_written():  # nothing applied yet: every event is new
        keys = events.select(*cdc.keys).distinct()
        applied = (
            state.rows_with_keys(session, keys, _state_schema(cdc), in_driver=in_driver)
            .groupBy(*cdc.keys)
            .agg(F.max(SEQUENCE).alias(APPLIED))
        )
        events = events.join(applied, list(cdc.keys), "left").where(
            F.col(APPLIED).isNull() | (F.col(SEQUENCE) > F.col(APPLIED))
        )
    latest = _latest_per_key(events, cdc)
    if in_driver:
        rows = latest.toArrow()
        done = target.merge_rows(rows, lambda q: _clauses(cdc, q))
    else:
        latest = latest.persist()
        try:
            done = target.merge_frame(latest, lambda q: _clauses(cdc, q))
            rows = latest.select(*cdc.keys, SEQUENCE, DELETE).toArrow()
        finally:
            latest.unpersist()
    return done, _state_rows(rows, cdc, tombstones)


def _apply_in_python(
    events: pa.Table, cdc: ResolvedAutoCdc, target: LocalDeltaTable, state: LocalDeltaTable
) -> tuple[dict[str, int], pa.Table]:
    tombstones = None
    if cdc.spec.apply_as_truncates is not None:
        events, tombstones = _truncated_in_python(events, cdc, target, state)
    applied: dict[tuple[Any, ...], Any] = {}
    if events.num_rows and not state.never_written():
        keys = list(cdc.keys)
        touched = events.select(keys).group_by(keys).aggregate([])
        stored = state.keyed_rows(touched, [*keys, SEQUENCE, DELETED])
        applied = {key: row[SEQUENCE] for key, row in _newest_per_key(stored, cdc).items()}
    rows = latest_per_key(events, cdc, applied)
    done = target.merge_rows(rows, lambda q: _clauses(cdc, q))
    return done, _state_rows(rows, cdc, tombstones)


def _newest_per_key(stored: pa.Table, cdc: ResolvedAutoCdc) -> dict[tuple[Any, ...], dict]:
    """Each key's newest state record."""
    newest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in stored.to_pylist():
        key = tuple(row[k] for k in cdc.keys)
        known = newest.get(key)
        if known is None or sequence_order(row[SEQUENCE]) > sequence_order(known[SEQUENCE]):
            newest[key] = row
    return newest


def _state_rows(rows: pa.Table, cdc: ResolvedAutoCdc, tombstones: pa.Table | None) -> pa.Table:
    """The state records of one micro-batch: each applied key's sequence and whether it was
    deleted, after the tombstones of a truncate."""
    applied = rows.select([*cdc.keys, SEQUENCE, DELETE]).rename_columns(
        [*cdc.keys, SEQUENCE, DELETED]
    )
    if tombstones is None:
        return applied
    return pa.concat_tables([tombstones.cast(applied.schema), applied])


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
    if column in cdc.null_kept:
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
    if not cdc.null_kept:
        return latest.select(*cdc.columns, SEQUENCE, DELETE)
    merged = [
        F.col(f"__merged_{c}").alias(c) if c in cdc.null_kept else F.col(f"`{c}`")
        for c in cdc.values
    ]
    return latest.select(*cdc.keys, *merged, SEQUENCE, DELETE, FILL)


def _merged_values(cdc: ResolvedAutoCdc, newest_first: Window) -> list[Column]:
    if not cdc.null_kept:
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
            for c in cdc.null_kept
        ],
        last_delete.isNull().alias(FILL),
    ]


def _apply_truncates(
    session: SparkSession,
    events: DataFrame,
    cdc: ResolvedAutoCdc,
    target: LocalDeltaTable,
    state: LocalDeltaTable,
) -> tuple[DataFrame, pa.Table | None]:
    """A truncate at sequence T removes every row whose last event is older than T; events
    older than T are ignored. Returns the batch's remaining events and the truncated keys'
    tombstones (at T) for the state."""
    truncate = events.where(F.col(TRUNCATE)).agg(F.max(SEQUENCE).alias(TRUNCATED_AT))
    if truncate.first()[TRUNCATED_AT] is None:
        return events.where(~F.col(TRUNCATE)), None
    newest = (
        state.to_spark(session)
        .groupBy(*cdc.keys)
        .agg(
            F.max(SEQUENCE).alias(SEQUENCE),
            F.max_by(DELETED, SEQUENCE).alias(DELETED),
        )
    )
    older = newest.crossJoin(truncate).where(F.col(SEQUENCE) < F.col(TRUNCATED_AT)).persist()
    try:
        gone = older.where(~F.col(DELETED)).select(*cdc.keys)
        target.merge_frame(gone, lambda q: MergeClauses(on=_on(cdc, q), delete_when="true"))
        tombstones = older.select(
            *cdc.keys, F.col(TRUNCATED_AT).alias(SEQUENCE), F.lit(True).alias(DELETED)
        ).toArrow()
    finally:
        older.unpersist()
    remaining = (
        events.crossJoin(truncate)
        .where(~F.col(TRUNCATE) & (F.col(SEQUENCE) > F.col(TRUNCATED_AT)))
        .drop(TRUNCATED_AT)
    )
    return remaining, tombstones


def _truncated_in_python(
    events: pa.Table, cdc: ResolvedAutoCdc, target: LocalDeltaTable, state: LocalDeltaTable
) -> tuple[pa.Table, pa.Table | None]:
    """``_apply_truncates`` in Python."""
    truncating = events.column(TRUNCATE)
    truncates = events.filter(truncating).column(SEQUENCE).to_pylist()
    events = events.filter(pc.invert(truncating))
    if not truncates:
        return events, None
    at = max(truncates, key=sequence_order)
    limit = sequence_order(at)
    tombstones = None
    if not state.never_written():
        stored = state.delta_rs().to_pyarrow_table()
        newest = _newest_per_key(stored, cdc).values()
        older = [row for row in newest if sequence_order(row[SEQUENCE]) < limit]
        gone = [{k: row[k] for k in cdc.keys} for row in older if not row[DELETED]]
        key_schema = pa.schema([stored.schema.field(k) for k in cdc.keys])
        target.merge_rows(
            pa.Table.from_pylist(gone, schema=key_schema),
            lambda q: MergeClauses(on=_on(cdc, q), delete_when="true"),
        )
        tombstones = pa.Table.from_pylist(
            [{**row, SEQUENCE: at, DELETED: True} for row in older], schema=stored.schema
        )
    remaining = events.filter(pa.array([o > limit for o in _orders(events)], pa.bool_()))
    return remaining, tombstones


def _orders(rows: pa.Table) -> list[tuple[Any, ...]]:
    return [sequence_order(s) for s in rows.column(SEQUENCE).to_pylist()]


def _ensure_state(session: SparkSession, cdc: ResolvedAutoCdc, state: LocalDeltaTable) -> None:
    ensure_table(session, state, None, _state_schema(cdc))


def _state_schema(cdc: ResolvedAutoCdc) -> StructType:
    return StructType(
        [
            *[cdc.source_schema[k] for k in cdc.keys],
            StructField(SEQUENCE, cdc.sequence_type),
            StructField(DELETED, BooleanType()),
        ]
    )

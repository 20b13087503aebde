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

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, StructField, StructType

from lakehouse.engine.change_detection import never_written
from lakehouse.engine.change_events import DELETE, SEQUENCE, TRUNCATE, ResolvedAutoCdc, reject
from lakehouse.engine.delta_merge import (
    MergeClauses,
    Quote,
    merge_frame,
    merge_rows,
    rows_with_keys,
)
from lakehouse.engine.state_tables import upsert_by_keys
from lakehouse.engine.table_setup import ensure_table

APPLIED = "__applied_seq"
DELETED = "__deleted"
FILL = "__fill_from_target"
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
    tombstone_columns = [*cdc.keys, SEQUENCE, DELETE]
    if in_driver:
        rows = latest.toArrow()
        done = merge_rows(target, rows, lambda q: _clauses(cdc, q))
        tombstones = rows.select(tombstone_columns)
    else:
        latest = latest.persist()
        try:
            done = merge_frame(target, latest, lambda q: _clauses(cdc, q))
            tombstones = latest.select(*tombstone_columns).toArrow()
        finally:
            latest.unpersist()
    upsert_by_keys(state, tombstones.rename_columns([*cdc.keys, SEQUENCE, DELETED]), cdc.keys)
    return done


def _clauses(cdc: ResolvedAutoCdc, q: Quote) -> MergeClauses:
    return MergeClauses(
        on=" AND ".join(f"t.{q(k)} = s.{q(k)}" for k in cdc.keys),
        delete_when=f"s.{DELETE}",
        update_set={q(c): _new_value(cdc, c, q) for c in cdc.values},
        insert_when=f"NOT s.{DELETE}",
        insert_values={q(c): f"s.{q(c)}" for c in cdc.columns},
    )


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
    problem = reject(cdc, "two different events have the same key and sequence", record)
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

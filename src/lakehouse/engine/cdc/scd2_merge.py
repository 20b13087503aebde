"""SCD type 2: every version of a key, each valid from ``__START_AT`` until ``__END_AT``.

Beside the target, an event store keeps every change event applied so far. For each
micro-batch, the history of the keys it touches is rebuilt from all their events in sequence
order, and one MERGE replaces those keys' versions in the target (a replayed batch rebuilds
the same versions, so it changes nothing). A late event
therefore lands in the right place in history, and the table after any split of the events
into batches or runs is the one a single in-order run builds:

- an upsert opens a version when the key has none open, or when a tracked column differs
  from the open version; otherwise it updates the open version in place;
- a version closes at the next version's start, or at a delete.
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema

from lakehouse.engine.cdc.events import (
    DELETE,
    DIFFERENT_COPIES,
    END_AT,
    SEQUENCE,
    START_AT,
    ChangeBatch,
    ResolvedAutoCdc,
    reject,
)
from lakehouse.engine.cdc.scd2_fold import fold_versions
from lakehouse.engine.storage.delta_table import (
    LocalDeltaTable,
    MergeClauses,
    Quote,
    rows_by_keys,
)
from lakehouse.engine.storage.driver_writes import Placement
from lakehouse.engine.storage.table_setup import nullable

VERSION = "__version"
ACTION = "__action"


def scd2_apply(
    batch: ChangeBatch, cdc: ResolvedAutoCdc, target: LocalDeltaTable, store: LocalDeltaTable
) -> dict[str, int]:
    """Apply ``batch`` where its placement says (see ``driver_writes.py``) to ``target``,
    with every event applied so far in ``store``; returns the version rows written and
    removed.

    Example:
        >>> scd2_apply(ChangeBatch(events, 7, "lakehouse:crm:users", Placement.PYTHON), cdc,
        ...            target, store)  # doctest: +SKIP
        {'num_upserted_rows': 4, 'num_deleted_rows': 0}
    """
    events = batch.events.select(*cdc.columns, SEQUENCE, DELETE)
    rows = events.toArrow()
    if batch.placement is Placement.PYTHON:
        done = _apply_in_python(rows, cdc, target, store)
    else:
        in_driver = batch.placement is Placement.DELTA_RS
        done = _apply_with_spark(batch.session, events, cdc, target, store, in_driver)
    store.append_once(rows, f"{batch.app_id}:events", batch.batch_id)
    return done


def _apply_in_python(
    events: pa.Table, cdc: ResolvedAutoCdc, target: LocalDeltaTable, store: LocalDeltaTable
) -> dict[str, int]:
    keys = list(cdc.keys)
    touched = events.select(keys).group_by(keys).aggregate([])
    history = events
    if _has_rows(store):
        stored = store.keyed_rows(touched, events.column_names).cast(events.schema)
        history = pa.concat_tables([stored, events])
    # Spark's timestamps reach Arrow in UTC (DataFrame.toArrow), and leave it the same way.
    schema = to_arrow_schema(nullable(cdc.target_schema()), timezone="UTC")
    versions = fold_versions(history, cdc, schema)
    changes = _with_action(versions, "upsert")
    if not target.never_written():
        # A delete matches on the key and start alone, so only those columns are read.
        identity = [*keys, START_AT]
        current = target.keyed_rows(touched, identity).cast(
            pa.schema([schema.field(c) for c in identity])
        )
        gone = rows_by_keys(current, versions.select(identity), matching=False)
        changes = pa.concat_tables(
            [changes, _with_action(gone, "delete")], promote_options="default"
        )
    return target.merge_rows(changes, lambda q: _clauses(cdc, q))


def _with_action(rows: pa.Table, action: str) -> pa.Table:
    return rows.append_column(ACTION, pa.array([action] * rows.num_rows, pa.string()))


def _apply_with_spark(
    session: SparkSession,
    events: DataFrame,
    cdc: ResolvedAutoCdc,
    target: LocalDeltaTable,
    store: LocalDeltaTable,
    in_driver: bool,
) -> dict[str, int]:
    touched = events.select(*cdc.keys).distinct()
    history = events
    if _has_rows(store):
        stored = store.to_spark(session)
        history = stored.join(touched, list(cdc.keys), "left_semi").unionByName(events)
    versions = _versions(history, cdc).persist()
    try:
        changes = versions.withColumn(ACTION, F.lit("upsert"))
        if not target.never_written():
            current = target.to_spark(session)
            gone = (
                current.join(touched, list(cdc.keys), "left_semi")
                .join(versions, [*cdc.keys, START_AT], "left_anti")
                .withColumn(ACTION, F.lit("delete"))
            )
            changes = changes.unionByName(gone)
        if in_driver:
            return target.merge_rows(changes.toArrow(), lambda q: _clauses(cdc, q))
        return target.merge_frame(changes, lambda q: _clauses(cdc, q))
    finally:
        versions.unpersist()


def _has_rows(store: LocalDeltaTable) -> bool:
    return store.exists() and not store.never_written()


def _clauses(cdc: ResolvedAutoCdc, q: Quote) -> MergeClauses:
    stored_columns = [*cdc.columns, START_AT, END_AT]
    # Parenthesised: delta-rs parses IS NOT DISTINCT FROM looser than AND.
    same = " AND ".join(f"(t.{q(c)} IS NOT DISTINCT FROM s.{q(c)})" for c in stored_columns)
    return MergeClauses(
        on=" AND ".join(
            [*(f"t.{q(k)} = s.{q(k)}" for k in cdc.keys), f"t.{q(START_AT)} = s.{q(START_AT)}"]
        ),
        delete_when=f"s.{ACTION} = 'delete'",
        update_when=f"s.{ACTION} = 'upsert' AND NOT ({same})",
        update_set={q(c): f"s.{q(c)}" for c in stored_columns},
        insert_when=f"s.{ACTION} = 'upsert'",
        insert_values={q(c): f"s.{q(c)}" for c in stored_columns},
    )


def _versions(events: DataFrame, cdc: ResolvedAutoCdc) -> DataFrame:
    """Fold each key's events, in sequence order, into its versions."""
    in_order = Window.partitionBy(*cdc.keys).orderBy(SEQUENCE)
    payload = F.struct(*[F.col(f"`{c}`") for c in cdc.values], F.col(DELETE))
    same_sequence = F.lag(SEQUENCE).over(in_order) == F.col(SEQUENCE)
    conflict = same_sequence & ~F.lag(payload).over(in_order).eqNullSafe(payload)
    record = F.to_json(F.struct(*[F.col(f"`{c}`") for c in cdc.columns], F.col(SEQUENCE)))
    problem = reject(cdc, DIFFERENT_COPIES, record)
    # Identical copies of an event (a replay, a duplicate delivery) count once.
    events = (
        events.select(
            "*",
            F.when(conflict, problem).alias("__conflict"),
            F.coalesce(same_sequence, F.lit(False)).alias("__copy"),
        )
        .where(F.coalesce(F.col("__conflict"), ~F.col("__copy")))
        .drop("__conflict", "__copy")
    )
    if cdc.null_kept:
        events = _fill_null_updates(events, cdc, in_order)

    tracked = F.struct(*[F.col(f"`{c}`") for c in cdc.tracked])
    previous_delete = F.lag(DELETE).over(in_order)
    opens = ~F.col(DELETE) & (
        previous_delete.isNull()
        | previous_delete
        | ~F.lag(tracked).over(in_order).eqNullSafe(tracked)
    )
    numbered = events.withColumn(
        VERSION,
        F.sum(opens.cast("int")).over(in_order.rowsBetween(Window.unboundedPreceding, 0)),
    )
    upsert_sequence = F.when(~F.col(DELETE), F.col(SEQUENCE))
    versions = (
        numbered.where(F.col(VERSION) > 0)
        .groupBy(*cdc.keys, VERSION)
        .agg(
            F.min(upsert_sequence).alias(START_AT),
            F.min(F.when(F.col(DELETE), F.col(SEQUENCE))).alias("__closed_at"),
            F.max_by(F.struct(*[F.col(f"`{c}`") for c in cdc.values]), upsert_sequence).alias(
                "__values"
            ),
        )
    )
    by_version = Window.partitionBy(*cdc.keys).orderBy(VERSION)
    return versions.select(
        *cdc.keys,
        *[F.col(f"__values.`{c}`").alias(c) for c in cdc.values],
        START_AT,
        F.coalesce(F.col("__closed_at"), F.lead(START_AT).over(by_version)).alias(END_AT),
    )


def _fill_null_updates(events: DataFrame, cdc: ResolvedAutoCdc, in_order: Window) -> DataFrame:
    """With ``ignore_null_updates``, a NULL in an update keeps the value the key had, back to
    its last delete."""
    segment = F.sum(F.col(DELETE).cast("int")).over(
        in_order.rowsBetween(Window.unboundedPreceding, 0)
    )
    events = events.withColumn("__segment", segment)
    since_delete = (
        Window.partitionBy(*cdc.keys, "__segment")
        .orderBy(SEQUENCE)
        .rowsBetween(Window.unboundedPreceding, 0)
    )
    filled: list[Column] = [
        F.when(
            ~F.col(DELETE),
            F.last(F.when(~F.col(DELETE), F.col(f"`{c}`")), ignorenulls=True).over(since_delete),
        ).alias(c)
        if c in cdc.null_kept
        else F.col(f"`{c}`")
        for c in cdc.values
    ]
    return events.select(*cdc.keys, *filled, SEQUENCE, DELETE)

"""AUTO CDC's input: a source's rows read as change events, checked before anything applies.

``resolve_auto_cdc`` checks an ``AutoCdc`` declaration against the source's schema (before
any data moves) and says which columns the target gets. ``change_events`` turns a batch of
source rows into events with a sequence, a delete flag and a truncate flag; an event with a
NULL sequence or a NULL key stops the update with a message showing the event.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DataType, MapType, StructField, StructType

from lakehouse.engine.errors import ChangeEventRejected, GraphError, landed_in
from lakehouse.engine.graph.elements import AutoCdc
from lakehouse.engine.observability.masking import Masking
from lakehouse.engine.quality.row_errors import any_of, row_error, row_error_text, stop_at_row
from lakehouse.engine.storage.driver_writes import Placement

SEQUENCE = "__seq"
DELETE = "__delete"
TRUNCATE = "__truncate"
START_AT = "__START_AT"
END_AT = "__END_AT"
DIFFERENT_COPIES = "two different events have the same key and sequence"


@dataclass(frozen=True)
class ResolvedAutoCdc:
    """An AUTO CDC declaration with every column resolved against its source."""

    spec: AutoCdc
    flow: str
    target: str
    keys: tuple[str, ...]
    columns: tuple[str, ...]  # what the target stores, keys first
    tracked: tuple[str, ...]  # SCD2: the columns whose change opens a new version
    sequence_type: DataType
    source_schema: StructType
    # The value columns whose NULL in an update keeps the stored value (ignore_null_updates,
    # or its column lists); empty: a NULL is written as any value is.
    null_kept: tuple[str, ...] = ()

    @property
    def values(self) -> tuple[str, ...]:
        """The stored columns that are not keys."""
        return tuple(c for c in self.columns if c not in self.keys)

    @property
    def scd_type(self) -> int:
        return self.spec.scd_type

    def target_schema(self) -> StructType:
        """The target table's columns: the selected ones, then SCD2's validity interval."""
        fields = [self.source_schema[c] for c in self.columns]
        if self.scd_type == 2:
            fields += [
                StructField(START_AT, self.sequence_type),
                StructField(END_AT, self.sequence_type),
            ]
        return StructType(fields)


def resolve_auto_cdc(spec: AutoCdc, flow: str, target: str, source: DataFrame) -> ResolvedAutoCdc:
    """Check ``spec`` against the source's columns; a mistake is a ``GraphError``.

    Example:
        >>> resolved = resolve_auto_cdc(spec, "users_cdc", "main.crm.users", users_frame)
        >>> resolved.target_schema().fieldNames()  # doctest: +SKIP
        ['userId', 'name', 'city']
    """
    where = f"AUTO CDC flow '{flow}' into '{target}'"

    def names(columns: tuple[Any, ...] | None, argument: str) -> tuple[str, ...]:
        resolved = []
        for column in columns or ():
            try:
                (name,) = source.select(column).columns
            except AnalysisException:
                raise GraphError(
                    f"{where}: {argument} names {column!r}, which is not a column of source "
                    f"'{spec.source}' (columns: {', '.join(source.columns)})"
                ) from None
            resolved.append(name)
        return tuple(resolved)

    keys = names(spec.keys, "keys")
    if not keys:
        raise GraphError(f"{where}: keys must name at least one column")
    for first, second in (
        ("column_list", "except_column_list"),
        ("track_history_column_list", "track_history_except_column_list"),
        ("ignore_null_updates_column_list", "ignore_null_updates_except_column_list"),
    ):
        if getattr(spec, first) is not None and getattr(spec, second) is not None:
            raise GraphError(f"{where}: give {first} or {second}, not both")
    if spec.scd_type == 1 and (
        spec.track_history_column_list is not None
        or spec.track_history_except_column_list is not None
    ):
        raise GraphError(f"{where}: history tracking columns need stored_as_scd_type=2")
    if spec.scd_type == 2 and spec.apply_as_truncates is not None:
        raise GraphError(f"{where}: apply_as_truncates is supported only for SCD type 1")

    if spec.column_list is not None:
        selected = names(spec.column_list, "column_list")
    else:
        excluded = set(names(spec.except_column_list, "except_column_list"))
        selected = tuple(c for c in source.columns if c not in excluded)
    columns = keys + tuple(c for c in selected if c not in keys)
    for reserved in (START_AT, END_AT):
        if spec.scd_type == 2 and reserved in columns:
            raise GraphError(f"{where}: the source already has a column {reserved}")

    values = [c for c in columns if c not in keys]
    if spec.track_history_column_list is not None:
        tracked = names(spec.track_history_column_list, "track_history_column_list")
    else:
        untracked = set(
            names(spec.track_history_except_column_list, "track_history_except_column_list")
        )
        tracked = tuple(c for c in values if c not in untracked)
    outside = [c for c in tracked if c not in values]
    if outside:
        raise GraphError(f"{where}: tracked columns {outside} are not stored in the target")

    if spec.ignore_null_updates_column_list is not None:
        null_kept = names(spec.ignore_null_updates_column_list, "ignore_null_updates_column_list")
    elif spec.ignore_null_updates_except_column_list is not None:
        kept_null = set(
            names(
                spec.ignore_null_updates_except_column_list,
                "ignore_null_updates_except_column_list",
            )
        )
        null_kept = tuple(c for c in values if c not in kept_null)
    else:
        null_kept = tuple(values) if spec.ignore_null_updates else ()
    outside = [c for c in null_kept if c not in values]
    if outside:
        raise GraphError(f"{where}: ignore_null_updates columns {outside} are not stored values")

    sequence_type = _expression_type(source, spec.sequence_by, "sequence_by", where)
    if isinstance(sequence_type, MapType):
        raise GraphError(f"{where}: sequence_by must be orderable, got a {sequence_type}")
    for argument in ("apply_as_deletes", "apply_as_truncates"):
        expression = getattr(spec, argument)
        if expression is not None:
            _expression_type(source, expression, argument, where)
    return ResolvedAutoCdc(
        spec, flow, target, keys, columns, tracked, sequence_type, source.schema, null_kept
    )


def _as_column(expression: Any) -> Column:
    return expression if isinstance(expression, Column) else F.expr(str(expression))


def _expression_type(source: DataFrame, expression: Any, argument: str, where: str) -> DataType:
    try:
        return source.select(_as_column(expression)).schema[0].dataType
    except Exception as error:  # a parse or analysis error, reworded with the argument
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise GraphError(f"{where}: {argument} {expression!r} is not valid: {first_line}") from None


@dataclass(frozen=True)
class ChangeBatch:
    """One micro-batch of change events (``change_events``'s columns) and where to apply it.
    ``app_id`` and ``batch_id`` name the batch in the state tables' appends, which makes a
    replayed batch's append a no-op.

    Example:
        >>> ChangeBatch(change_events(batch, cdc), batch_id, "lakehouse:crm:users", Placement.PYTHON)  # doctest: +SKIP
    """

    events: DataFrame
    batch_id: int
    app_id: str
    placement: Placement

    @property
    def session(self) -> SparkSession:
        return self.events.sparkSession


def change_events(batch: DataFrame, cdc: ResolvedAutoCdc) -> DataFrame:
    """The batch's rows as change events: the stored columns, ``__seq``, ``__delete``,
    ``__truncate``. A NULL sequence, or a NULL key outside a truncate, stops the update.

    Example:
        >>> change_events(batch, resolved).columns  # doctest: +SKIP
        ['userId', 'name', 'city', '__seq', '__delete', '__truncate']
    """
    spec = cdc.spec
    sequence = _as_column(spec.sequence_by)
    truncate = _flag(spec.apply_as_truncates)
    record = F.to_json(F.struct(*[F.col(f"`{c}`") for c in batch.columns]))
    null_key = any_of([F.col(f"`{k}`").isNull() for k in cdc.keys]) & ~truncate
    problem = F.when(
        sequence.isNull(),
        reject(cdc, "an event has a NULL sequence (sequence_by); every event needs one", record),
    ).when(null_key, reject(cdc, f"an event has a NULL key ({', '.join(cdc.keys)})", record))
    return batch.where(F.coalesce(problem, F.lit(True))).select(
        *[F.col(f"`{c}`") for c in cdc.columns],
        sequence.alias(SEQUENCE),
        _flag(spec.apply_as_deletes).alias(DELETE),
        truncate.alias(TRUNCATE),
    )


def sequence_order(sequence: Any) -> tuple[Any, ...]:
    """A sort key that orders sequence values (collected from Arrow) as Spark sorts them: a
    struct by its fields in turn, NULLs first.

    Example:
        >>> sorted([{"day": 2, "n": 1}, {"day": 1, "n": None}], key=sequence_order)
        [{'day': 1, 'n': None}, {'day': 2, 'n': 1}]
    """
    parts = sequence.values() if isinstance(sequence, dict) else [sequence]
    return tuple((value is not None, value) for value in parts)


def events_by_key(events: pa.Table, cdc: ResolvedAutoCdc) -> Iterator[list[dict[str, Any]]]:
    """Change events collected to the driver, grouped per key in sequence order. Identical
    copies of an event (a replay, a duplicate delivery) count once; two different events with
    the same key and sequence stop the update, as in Spark.

    Example:
        >>> [len(e) for e in events_by_key(arrow_events, resolved)]  # doctest: +SKIP
        [3, 1]
    """
    by_key: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for event in events.to_pylist():
        by_key[tuple(event[k] for k in cdc.keys)].append(event)
    for key_events in by_key.values():
        kept: list[dict[str, Any]] = []
        for event in sorted(key_events, key=lambda e: sequence_order(e[SEQUENCE])):
            if kept and kept[-1][SEQUENCE] == event[SEQUENCE]:
                if _payload(kept[-1], cdc) != _payload(event, cdc):
                    record = json.dumps(
                        {**{c: event[c] for c in cdc.columns}, SEQUENCE: event[SEQUENCE]},
                        default=str,
                    )
                    raise rejection(cdc, DIFFERENT_COPIES, record)
                continue
            kept.append(event)
        yield kept


def _payload(event: dict[str, Any], cdc: ResolvedAutoCdc) -> tuple[Any, ...]:
    return (*[event[c] for c in cdc.values], event[DELETE])


def _flag(expression: Any) -> Column:
    return F.lit(False) if expression is None else F.coalesce(_as_column(expression), F.lit(False))


def reject(cdc: ResolvedAutoCdc, problem: str, record: Column) -> Column:
    """An expression that stops the update with ``problem`` and the offending record."""
    return stop_at_row("change_event", _details(cdc, problem), record)


def rejection(cdc: ResolvedAutoCdc, problem: str, record: str) -> RuntimeError:
    """The error ``reject`` raises, for an event found invalid in the driver.

    Example:
        >>> raise rejection(resolved, "two different events ...", '{"id": 1}')  # doctest: +SKIP
    """
    return RuntimeError(row_error_text("change_event", _details(cdc, problem), record))


def _details(cdc: ResolvedAutoCdc, problem: str) -> dict[str, str]:
    return {"flow": cdc.flow, "target": cdc.target, "problem": problem}


def rejected_change(
    error: BaseException, masking: Masking | None = None
) -> ChangeEventRejected | None:
    """The ``ChangeEventRejected`` hidden in a Spark error, if there is one; the record's
    classified values masked."""
    details = row_error(error, "change_event")
    if details is None:
        return None
    record = (masking or Masking()).record_json(json.dumps(details["record"], default=str))
    return ChangeEventRejected(
        details["flow"], details["target"], details["problem"], record, landed_in(details["record"])
    )

"""An incremental run's few changed rows scored on the driver, when the tables are folders (a
local run): the change data feed read by delta-rs, the model applied to a pandas frame, the
predictions merged by delta-rs. A Spark job would spend seconds planning, starting Python
workers that each load the model, and joining the whole output; this takes a fraction of a
second for thousands of rows.

The rows, the predictions and the commit's recorded state are those of Spark's path
(``batch_scoring`` with ``changed_rows``), which scores every other case: a change feed of
more than ``DRIVER_LIMIT`` rows, tables in a catalog (Databricks), or a target delta-rs does
not write.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties

from lakehouse.engine.storage.delta_table import LocalDeltaTable, MergeClauses, Quote

if TYPE_CHECKING:
    from lakehouse.scoring.control_table import ControlRow
    from lakehouse.scoring.model_store import ModelVersion

# Change-feed rows read on the driver at most (a rewritten 100k-row table is 200k rows).
DRIVER_LIMIT = 200_000
_AFTER = ("insert", "update_postimage")
_META = ("_change_type", "_commit_version")


@dataclass(frozen=True)
class DriverChange:
    """The rows to score (current values) and the keys whose row is gone, as Arrow tables."""

    changed: pa.Table
    deleted_keys: pa.Table


def read_change(
    table: LocalDeltaTable, since: int, until: int, keys: tuple[str, ...], features: tuple[str, ...]
) -> DriverChange | None:
    """The net change of ``table`` after version ``since`` up to ``until``, as
    ``changed_rows.changed_rows`` defines it; None when the feed holds more than
    ``DRIVER_LIMIT`` rows (Spark's turn).

    Example:
        >>> change = read_change(LocalDeltaTable(path), 4, 6, ("customer_id",), ("orders",))  # doctest: +SKIP
        >>> change.changed.num_rows, change.deleted_keys.num_rows  # doctest: +SKIP
        (12, 1)
    """
    columns = [*keys, *features]
    reader = pa.RecordBatchReader.from_stream(
        table.delta_rs().load_cdf(
            starting_version=since + 1, ending_version=until, columns=[*columns, *_META]
        )
    )
    batches, rows = [], 0
    for batch in reader:
        rows += batch.num_rows
        if rows > DRIVER_LIMIT:
            return None
        batches.append(batch)
    feed = pa.Table.from_batches(batches, schema=reader.schema).select([*columns, *_META])
    plain = pa.schema([_plain(f) for f in feed.schema])
    return _net_change(feed.cast(plain), keys, features)


def _plain(field: pa.Field) -> pa.Field:
    """delta-rs reads strings as views, which not every pyarrow kernel takes."""
    if pa.types.is_string_view(field.type):
        return field.with_type(pa.string())
    if pa.types.is_binary_view(field.type):
        return field.with_type(pa.binary())
    return field


def _net_change(feed: pa.Table, keys: tuple[str, ...], features: tuple[str, ...]) -> DriverChange:
    after = pc.is_in(feed.column("_change_type"), value_set=pa.array(_AFTER))
    # In one commit a row's new image follows its old one (a rewrite deletes and inserts).
    ordered = feed.append_column("_after", after).sort_by(
        [("_commit_version", "ascending"), ("_after", "ascending")]
    )
    with_nulls = pc.ScalarAggregateOptions(skip_nulls=False)
    tracked = [*features, "_after"]
    per_key = ordered.group_by(list(keys), use_threads=False).aggregate(
        [(c, "first", with_nulls) for c in tracked] + [(c, "last", with_nulls) for c in tracked]
    )
    now_exists = per_key.column("_after_last")
    # Unchanged: it existed before the first change, and its features came back equal.
    same = pc.invert(per_key.column("_after_first"))
    for column in features:
        first, last = per_key.column(f"{column}_first"), per_key.column(f"{column}_last")
        equal = pc.or_(pc.fill_null(pc.equal(first, last), False), pc.and_(pc.is_null(first), pc.is_null(last)))  # fmt: skip
        same = pc.and_(same, equal)
    changed = per_key.filter(pc.and_(now_exists, pc.invert(same)))
    return DriverChange(
        changed=pa.table({c: changed.column(c if c in keys else f"{c}_last") for c in (*keys, *features)}),
        deleted_keys=per_key.filter(pc.invert(now_exists)).select(list(keys)),
    )  # fmt: skip


def predictions(
    change: pa.Table, row: ControlRow, model: ModelVersion, run_id: str, schema: pa.Schema
) -> tuple[pa.Table, int]:
    """The output rows for ``change`` in the output's ``schema``, and how many had a NULL
    feature (their prediction is NULL, as on Spark's path).

    Example:
        >>> rows, with_null = predictions(change.changed, row, model, run_id, target_schema)  # doctest: +SKIP
    """
    import mlflow
    import numpy as np

    complete = functools.reduce(pc.and_, [pc.is_valid(change.column(f)) for f in row.features])
    is_complete = complete.to_numpy(zero_copy_only=False)
    scored = np.full(change.num_rows, np.nan)
    ready = change.filter(complete)
    if ready.num_rows:
        model_frame = ready.select(list(row.features)).to_pandas()
        loaded = mlflow.pyfunc.load_model(model.uri)
        scored[is_complete] = np.asarray(loaded.predict(model_frame), dtype="float64").reshape(-1)
    now = datetime.datetime.now(datetime.timezone.utc)
    values = {
        **{k: change.column(k) for k in row.keys},
        "prediction": pa.array(scored, mask=~is_complete),
        "model_name": pa.array([model.name] * change.num_rows),
        "model_version": pa.array([model.version] * change.num_rows),
        "scored_at": pa.array([now] * change.num_rows),
        "scoring_run_id": pa.array([run_id] * change.num_rows),
    }
    rows = pa.table({f.name: values[f.name].cast(f.type) for f in schema})
    return rows, change.num_rows - ready.num_rows


def merge_predictions(
    target: LocalDeltaTable,
    rows: pa.Table,
    deleted_keys: pa.Table,
    keys: tuple[str, ...],
    metadata: str,
) -> None:
    """Upsert ``rows`` and delete ``deleted_keys`` in one delta-rs commit carrying
    ``metadata`` as its ``userMetadata`` (where Spark's path records the scoring state).

    Example:
        >>> merge_predictions(LocalDeltaTable(path), rows, gone, ("customer_id",), state)  # doctest: +SKIP
    """
    gone = deleted_keys.cast(pa.schema([rows.schema.field(k) for k in keys]))
    deletes = pa.table({
        **{f.name: gone.column(f.name) if f.name in keys else pa.nulls(gone.num_rows, f.type)
           for f in rows.schema},
        "_delete": pa.array([True] * gone.num_rows, pa.bool_()),
    })  # fmt: skip
    source = pa.concat_tables(
        [rows.append_column("_delete", pa.array([False] * rows.num_rows, pa.bool_())), deletes]
    )

    def clauses(q: Quote) -> MergeClauses:
        return MergeClauses(
            on=" AND ".join(f"t.{q(k)} IS NOT DISTINCT FROM s.{q(k)}" for k in keys),
            delete_when="s._delete",
            update_set={q(c): f"s.{q(c)}" for c in rows.column_names},
            insert_values={q(c): f"s.{q(c)}" for c in rows.column_names},
            insert_when="NOT s._delete",
        )

    state = CommitProperties(custom_metadata={"userMetadata": metadata})
    target.merge_rows(source, clauses, commit_properties=state, small_source=True)

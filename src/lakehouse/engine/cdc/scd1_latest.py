"""SCD type 1 rows of a micro-batch's keys, chosen in the driver.

The rules of ``scd1_merge._latest_per_key`` (Spark) for micro-batches placed in Python
(``driver_writes.Placement``): Python picks each key's latest event from a few thousand rows in
milliseconds, where Spark plans and runs a windowed job. Every SCD1 test runs through both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from lakehouse.engine.cdc.events import (
    DELETE,
    SEQUENCE,
    ResolvedAutoCdc,
    events_by_key,
    sequence_order,
)

FILL = "__fill_from_target"


def latest_per_key(
    events: pa.Table, cdc: ResolvedAutoCdc, applied: Mapping[tuple[Any, ...], Any]
) -> pa.Table:
    """One row per key of ``events`` (change events: the stored columns, ``__seq``,
    ``__delete``): its latest event newer than the sequence already applied to the key
    (``applied``, by key tuple). With ``ignore_null_updates``, a column it covers holds the latest
    non-NULL value since the key's last delete in the batch, and ``__fill_from_target`` says
    whether the batch has no delete of the key (NULLs then keep the stored values).

    Example:
        >>> latest_per_key(events, resolved, {(1,): 2}).to_pylist()  # doctest: +SKIP
        [{'id': 1, 'city': 'Oslo', '__seq': 3, '__delete': False}]
    """
    fields = [events.schema.field(c) for c in (*cdc.columns, SEQUENCE, DELETE)]
    if applied:
        events = events.filter(_newer(events, cdc.keys, applied))
    rows = [_latest(key_events, cdc) for key_events in events_by_key(events, cdc)]
    if cdc.null_kept:
        fields.append(pa.field(FILL, pa.bool_()))
    return pa.Table.from_pylist(rows, schema=pa.schema(fields))


def _newer(
    events: pa.Table, keys: tuple[str, ...], applied: Mapping[tuple[Any, ...], Any]
) -> pa.Array:
    found = zip(*(events.column(k).to_pylist() for k in keys), strict=True)
    sequences = events.column(SEQUENCE).to_pylist()
    return pa.array(
        [
            key not in applied or sequence_order(s) > sequence_order(applied[key])
            for key, s in zip(found, sequences, strict=True)
        ],
        pa.bool_(),
    )


def _latest(events: list[dict[str, Any]], cdc: ResolvedAutoCdc) -> dict[str, Any]:
    latest = events[-1]
    if not cdc.null_kept:
        return latest
    deletes = [i for i, event in enumerate(events) if event[DELETE]]
    since_delete = events[deletes[-1] + 1 :] if deletes else events
    merged = {
        c: next((e[c] for e in reversed(since_delete) if e[c] is not None), None)
        for c in cdc.null_kept
    }
    return {**latest, **merged, FILL: not deletes}

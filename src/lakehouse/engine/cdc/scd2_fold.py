"""SCD type 2 versions of a micro-batch's keys, folded in the driver.

The rules of ``scd2_merge._versions`` (Spark) for micro-batches placed in Python
(``driver_writes.Placement``): their keys' events are a few thousand rows, which Python folds
without a Spark job, where Spark plans and runs several jobs with shuffles even for a handful
of rows. Every SCD2 test runs through both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from lakehouse.engine.cdc.events import (
    DELETE,
    END_AT,
    SEQUENCE,
    START_AT,
    ResolvedAutoCdc,
    events_by_key,
)

Event = dict[str, Any]


def fold_versions(history: pa.Table, cdc: ResolvedAutoCdc, schema: pa.Schema) -> pa.Table:
    """Every version of the keys in ``history`` (change events: the stored columns,
    ``__seq``, ``__delete``), as rows of ``schema``: the stored columns, ``__START_AT``,
    ``__END_AT``.

    Example:
        >>> fold_versions(events, resolved, target_schema).to_pylist()  # doctest: +SKIP
        [{'id': 1, 'city': 'Oslo', '__START_AT': 1, '__END_AT': 3}, ...]
    """
    rows = [row for events in events_by_key(history, cdc) for row in _key_versions(events, cdc)]
    return pa.Table.from_pylist(rows, schema=schema)


def _key_versions(events: list[Event], cdc: ResolvedAutoCdc) -> Iterator[Event]:
    if cdc.null_kept:
        events = _null_updates_filled(events, cdc)
    versions: list[dict[str, Any]] = []
    previous: Event | None = None
    for event in events:
        opens = not event[DELETE] and (
            previous is None or previous[DELETE] or _tracked(previous, cdc) != _tracked(event, cdc)
        )
        if opens:
            versions.append({"start": event[SEQUENCE], "closed": None, "values": event})
        elif versions and event[DELETE]:
            if versions[-1]["closed"] is None:  # the first delete closes it
                versions[-1]["closed"] = event[SEQUENCE]
        elif versions:  # an upsert of the same tracked values: the version's latest values
            versions[-1]["values"] = event
        previous = event
    for i, version in enumerate(versions):
        end = version["closed"]
        if end is None and i + 1 < len(versions):
            end = versions[i + 1]["start"]
        yield {
            **{c: version["values"][c] for c in cdc.columns},
            START_AT: version["start"],
            END_AT: end,
        }


def _null_updates_filled(events: list[Event], cdc: ResolvedAutoCdc) -> list[Event]:
    """With ``ignore_null_updates``, a NULL in an update keeps the value the key had, back to
    its last delete."""
    filled: list[Event] = []
    known: dict[str, Any] = {}
    for event in events:
        if event[DELETE]:
            known = {}
            filled.append({**event, **{c: None for c in cdc.null_kept}})
            continue
        known.update({c: event[c] for c in cdc.null_kept if event[c] is not None})
        filled.append({**event, **{c: known.get(c) for c in cdc.null_kept}})
    return filled


def _tracked(event: Event, cdc: ResolvedAutoCdc) -> tuple[Any, ...]:
    return tuple(event[c] for c in cdc.tracked)

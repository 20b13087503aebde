"""What AUTO CDC SCD type 2 should keep, worked out in plain Python from the change events, for
tests that check gold built on SCD2 silver tables against the landed records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lakehouse.contracts import DataContract
from lakehouse.sample_data import Record


@dataclass(frozen=True)
class Version:
    """An SCD type 2 version: the record's values from ``start`` until ``end``."""

    record: Record
    start: Any
    end: Any


def scd2_versions(
    events: Iterable[Record], contract: DataContract, tracked: Sequence[str]
) -> dict[Any, list[Version]]:
    """The versions AUTO CDC SCD type 2 keeps per key, folded in plain Python from the events
    in sequence order: a change of a tracked column opens a version, a delete closes it. A
    test checks a gold table built on SCD2 silver against these, worked out from what landed.

    Example:
        >>> versions = scd2_versions(sales.silver_records("customers"),
        ...                          sales.contract("customers"), ["name", "email"])  # doctest: +SKIP
        >>> versions[42][-1].end is None  # doctest: +SKIP
        True
    """
    cdc = contract.cdc
    assert cdc is not None and len(contract.keys) == 1
    by_key: dict[Any, list[Record]] = defaultdict(list)
    for event in events:
        by_key[event[contract.keys[0]]].append(event)
    versions: dict[Any, list[Version]] = {}
    for key, changes in by_key.items():
        kept: list[Version] = []
        for event in sorted(changes, key=lambda e: e[cdc.sequence_column]):
            at = event[cdc.sequence_column]
            is_open = bool(kept) and kept[-1].end is None
            if cdc.operation_column and event[cdc.operation_column] == cdc.delete_marker:
                if is_open:
                    kept[-1] = Version(kept[-1].record, kept[-1].start, at)
                continue
            if is_open and all(kept[-1].record[c] == event[c] for c in tracked):
                continue
            if is_open:
                kept[-1] = Version(kept[-1].record, kept[-1].start, at)
            kept.append(Version(event, at, None))
        versions[key] = kept
    return versions


def current_versions(versions: dict[Any, list[Version]]) -> dict[Any, Version]:
    """Each key's open version; deleted keys have none.

    Example:
        >>> [v.record["name"] for v in current_versions(versions).values()]  # doctest: +SKIP
        ['Ann', 'Bo']
    """
    return {key: v[-1] for key, v in versions.items() if v and v[-1].end is None}

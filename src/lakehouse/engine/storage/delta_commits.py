"""What a write did to a Delta table, read from the commits it left in the table's log."""

from __future__ import annotations

import json
from pathlib import Path

from lakehouse.engine.storage.delta_log import delta_version


def commit_metrics(table: Path, after_version: int) -> dict[str, int]:
    """The operation metrics of the commits made to ``table`` after ``after_version``, summed.

    Example:
        >>> commit_metrics(Path("/lh/catalog/main/crm/users"), 4)  # doctest: +SKIP
        {'numTargetRowsInserted': 3, 'numTargetRowsUpdated': 1, ...}
    """
    totals: dict[str, int] = {}
    for version in range(after_version + 1, delta_version(table) + 1):
        commit = table / "_delta_log" / f"{version:020d}.json"
        for line in commit.read_text().splitlines():
            info = json.loads(line).get("commitInfo")
            for name, value in ((info or {}).get("operationMetrics") or {}).items():
                if str(value).isdigit():
                    totals[name] = totals.get(name, 0) + int(value)
    return totals


def merge_counts(table: Path, after_version: int) -> dict[str, int]:
    """Rows the MERGEs committed to ``table`` after ``after_version`` upserted and deleted, as
    an AUTO CDC flow reports them.

    Example:
        >>> merge_counts(Path("/lh/catalog/main/crm/users"), 4)  # doctest: +SKIP
        {'num_upserted_rows': 4, 'num_deleted_rows': 1}
    """
    metrics = commit_metrics(table, after_version)
    return {
        "num_upserted_rows": metrics.get("numTargetRowsInserted", 0)
        + metrics.get("numTargetRowsUpdated", 0),
        "num_deleted_rows": metrics.get("numTargetRowsDeleted", 0),
    }

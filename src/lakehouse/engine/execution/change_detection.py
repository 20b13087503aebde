"""Skips flows whose inputs have not changed since they last ran.

A flow qualifies only when every source of its query is a table of this pipeline (each read
through the engine adds one leaf to the plan; files, external tables or literal data add
others, and then the flow always runs). Its fingerprint is the Delta version of each source
plus, for a materialized view, a hash of its query: equal fingerprints mean there is
nothing to recompute or stream. This is what keeps an update over unchanged data quick.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame

from lakehouse.engine.spark_connect import is_connect
from lakehouse.engine.storage.local_files import write_atomically

_EXPRESSION_ID = re.compile(r"#\d+L?")


def inputs_fingerprint(
    frame: DataFrame, sources: Sequence[tuple[Path, int]], *, extra: Any = None
) -> dict[str, Any] | None:
    """What a flow's output depends on, or None when it reads anything but pipeline tables;
    ``sources`` are the tables read, each with its version when read.

    Example:
        >>> inputs_fingerprint(frame, [(Path("/lh/catalog/main/s/orders"), 3)])  # doctest: +SKIP
        {'sources': {'/lh/catalog/main/s/orders': 3}, 'query': '9f2c...'}
    """
    if not sources or is_connect(frame):  # a Connect client cannot see the plan: recompute
        return None
    plan = frame._jdf.queryExecution().logical()
    if plan.collectLeaves().size() != len(sources):
        return None
    query = _EXPRESSION_ID.sub("", plan.toString()) + json.dumps(extra, sort_keys=True, default=str)
    return {
        "sources": {str(path): version for path, version in sources},
        "query": hashlib.sha256(query.encode()).hexdigest(),
    }


def load_fingerprint(file: Path) -> dict[str, Any] | None:
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError):
        return None


def save_fingerprint(file: Path, fingerprint: dict[str, Any]) -> None:
    write_atomically(file, json.dumps(fingerprint, sort_keys=True))

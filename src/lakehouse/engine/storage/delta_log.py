"""A Delta table's log, read from its folder: which version it is at, and whether anything
was ever written to it. Cheap enough to ask before every flow (no Spark, no delta-rs)."""

from __future__ import annotations

import re
from pathlib import Path

_COMMIT = re.compile(r"^(\d{20})\.json\Z")


def delta_version(table: Path) -> int:
    """The latest committed version of a Delta table, from its log folder (-1 if none)."""
    log = table / "_delta_log"
    versions = (
        [int(m.group(1)) for p in log.iterdir() if (m := _COMMIT.match(p.name))]
        if log.is_dir()
        else []
    )
    return max(versions, default=-1)


def never_written(table: Path) -> bool:
    """True for a table created empty that no write has reached since (version 0, no files)."""
    first = table / "_delta_log" / f"{0:020d}.json"
    return delta_version(table) == 0 and '"add":' not in first.read_text()

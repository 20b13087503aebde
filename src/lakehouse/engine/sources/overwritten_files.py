"""Auto Loader's ``cloudFiles.allowOverwrites``: a landed file changed in place after a stream
took it (completed after it was read while still being written, or re-delivered under the same
name) is read again, whole, as Databricks does; its latest version is always read.

Spark's file source takes each path once, so the engine reads changed files itself, after the
stream's own micro-batches (before them in continuous mode): it lists the stream's folder,
compares each file's modification time with the one it was last taken with, and appends the
flow's query over the changed files as a batch. Each such batch is logged under the stream's
checkpoint (``rereads/offsets/<n>`` before it is written, ``rereads/commits/<n>`` after) and
appended with a Delta transaction id, so a crash in between writes it once when the next update
finishes it. As on Databricks, every record of a changed file is appended again: handle
duplicates downstream.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from pathlib import Path

from lakehouse.engine.sources.cloud_files_state import SeenFile, local_path
from lakehouse.engine.sources.landed_records import is_hidden

ALLOW_OVERWRITES = "cloudfiles.allowoverwrites"


def allows_overwrites(options: Mapping[str, str]) -> bool:
    """Whether Auto Loader ``options`` (any key case) set ``cloudFiles.allowOverwrites``.

    Example:
        >>> allows_overwrites({"cloudFiles.allowOverwrites": "true"})
        True
    """
    settings = {k.lower(): str(v).lower() for k, v in options.items()}
    return settings.get(ALLOW_OVERWRITES, "false") == "true"


def changed_files(
    root: str, options: Mapping[str, str], taken: Mapping[Path, SeenFile]
) -> dict[str, int]:
    """The files under ``root`` that a stream took and that changed since: their URIs and
    modification times (ms), as Spark's file source would list them.

    Example:
        >>> changed_files("/landing/crm/orders", {}, files_taken(checkpoint))  # doctest: +SKIP
        {'file:/landing/crm/orders/o1.json': 1764576000123}
    """
    folder = local_path(root)
    glob = {k.lower(): v for k, v in options.items()}.get("pathglobfilter")
    taken = {path.resolve(): seen for path, seen in taken.items()}
    changed: dict[str, int] = {}
    for file in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if not file.is_file() or is_hidden(file.relative_to(folder)):
            continue
        if glob and not fnmatch.fnmatch(file.name, glob):
            continue
        before = taken.get(file.resolve())
        modified = file.stat().st_mtime_ns // 1_000_000
        if before is not None and before.modified_ms != modified:
            changed[file.resolve().as_uri()] = modified
    return changed

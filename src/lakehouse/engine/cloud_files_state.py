"""Which landed files the Auto Loader streams of a storage folder have read: the local
counterpart of Databricks' ``cloud_files_state`` table function.

Spark's file source logs each file it takes into a micro-batch, with the modification time it
saw, under the stream's checkpoint (``sources/<n>/<batch>``, compacted every few batches into
``<batch>.compact``). A batch is done once its ``commits/<batch>`` file exists; a file of a
batch that was cut short is read again by the next update.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse


@dataclass(frozen=True)
class SeenFile:
    """A file a stream took: its modification time then (ms), its micro-batch, and whether
    that batch was committed."""

    path: Path
    modified_ms: int
    batch_id: int
    committed: bool


def local_path(uri: str) -> Path:
    """A file URI as Spark writes it (``file:/a%20b/c.json``, ``file:///a/c.json``) as a path.

    Example:
        >>> local_path("file:/landing/crm/my%20orders.json")
        PosixPath('/landing/crm/my orders.json')
    """
    return Path(unquote(urlparse(uri).path) if uri.startswith("file:") else uri)


def cloud_files_state(storage: Path) -> dict[Path, SeenFile]:
    """Every file the file-source streams under ``storage`` took, by path; a file taken twice
    (after a full refresh) counts as its last taking.

    Example:
        >>> state = cloud_files_state(Path(".lakehouse"))  # doctest: +SKIP
        >>> state[Path("/lh/landing/crm/orders/batch-0.json")].committed  # doctest: +SKIP
        True
    """
    seen: dict[Path, SeenFile] = {}
    for sources in sorted((storage / "pipelines").glob("*/checkpoints/*/*/sources")):
        checkpoint = sources.parent
        committed = {int(f.name) for f in (checkpoint / "commits").glob("*") if f.name.isdigit()}
        for log in sorted(sources.glob("*/*"), key=_batch_order):
            for entry in _entries(log):
                path = local_path(entry["path"])
                batch = int(entry["batchId"])
                seen[path] = SeenFile(path, int(entry["timestamp"]), batch, batch in committed)
    return seen


def _batch_order(log: Path) -> tuple[int, int]:
    number = log.name.removesuffix(".compact")
    return (int(number), 0) if number.isdigit() else (-1, 0)


def _entries(log: Path) -> list[dict]:
    """The file entries of one source log file; anything else (another source's offsets, a
    file cut short by a crash) has none."""
    if log.name.startswith(".") or not log.is_file():
        return []
    entries = []
    for line in log.read_text(errors="replace").splitlines()[1:]:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and {"path", "timestamp", "batchId"} <= entry.keys():
            entries.append(entry)
    return entries

"""Which landed files the Auto Loader streams of a storage folder have read: the local
counterpart of Databricks' ``cloud_files_state`` table function.

Spark's file source logs each file it takes into a micro-batch, with the modification time it
saw, under the stream's checkpoint (``sources/<n>/<batch>``, compacted every few batches into
``<batch>.compact``). A batch is done once its ``commits/<batch>`` file exists; a file of a
batch that was cut short is read again by the next update. Files changed in place and read again
(``cloudFiles.allowOverwrites``, see ``overwritten_files``) are logged by the engine beside it,
in ``rereads/``, the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from lakehouse.engine.storage.local_files import write_atomically


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
    (read again after it changed, or after a full refresh) counts as its last taking.

    Example:
        >>> state = cloud_files_state(Path(".lakehouse"))  # doctest: +SKIP
        >>> state[Path("/lh/landing/crm/orders/batch-0.json")].committed  # doctest: +SKIP
        True
    """
    seen: dict[Path, SeenFile] = {}
    for sources in sorted((storage / "pipelines").glob("*/checkpoints/*/*/sources")):
        seen.update(files_taken(sources.parent))
    return seen


def files_taken(checkpoint: Path) -> dict[Path, SeenFile]:
    """The files one stream took, by path, each as its last taking.

    Example:
        >>> files_taken(Path("/lh/pipelines/p/checkpoints/orders/orders"))  # doctest: +SKIP
        {PosixPath('/landing/crm/orders/o1.json'): SeenFile(...)}
    """
    seen: dict[Path, SeenFile] = {}
    committed = {int(f.name) for f in (checkpoint / "commits").glob("*") if f.name.isdigit()}
    for log in sorted((checkpoint / "sources").glob("*/*"), key=_batch_order):
        for entry in _entries(log):
            path = local_path(entry["path"])
            batch = int(entry["batchId"])
            seen[path] = SeenFile(path, int(entry["timestamp"]), batch, batch in committed)
    seen.update((taken.path, taken) for taken in RereadLog(checkpoint).taken())
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


@dataclass(frozen=True)
class RereadLog:
    """The batches of changed files one stream read again, under its checkpoint.

    Example:
        >>> log = RereadLog(Path("/lh/pipelines/p/checkpoints/orders/orders"))
        >>> batch = log.pending() or log.begin({"file:/landing/o1.json": 1764576000123})
        >>> log.commit(batch[0])  # doctest: +SKIP
    """

    checkpoint: Path

    @property
    def folder(self) -> Path:
        return self.checkpoint / "rereads"

    def _ids(self, kind: str) -> list[int]:
        folder = self.folder / kind
        return sorted(int(f.name) for f in folder.glob("*") if f.name.isdigit())

    def pending(self) -> tuple[int, dict[str, int]] | None:
        """The batch begun and not committed (an update stopped in between), if any."""
        committed = set(self._ids("commits"))
        for batch_id in self._ids("offsets"):
            if batch_id not in committed:
                return batch_id, self.files(batch_id)
        return None

    def files(self, batch_id: int) -> dict[str, int]:
        return json.loads((self.folder / "offsets" / str(batch_id)).read_text())

    def begin(self, files: Mapping[str, int]) -> tuple[int, dict[str, int]]:
        """Log a new batch of ``files`` (URI -> modification time) before it is written."""
        batch_id = max(self._ids("offsets"), default=-1) + 1
        write_atomically(self.folder / "offsets" / str(batch_id), json.dumps(dict(files)))
        return batch_id, dict(files)

    def commit(self, batch_id: int) -> None:
        write_atomically(self.folder / "commits" / str(batch_id), "")

    def taken(self) -> Iterable[SeenFile]:
        """Each file of each logged batch, in order, as a taking."""
        committed = set(self._ids("commits"))
        for batch_id in self._ids("offsets"):
            for uri, modified in self.files(batch_id).items():
                yield SeenFile(local_path(uri), int(modified), batch_id, batch_id in committed)

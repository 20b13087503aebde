"""The engine's own Delta tables beside AUTO CDC targets, written with delta-rs.

Only the engine reads them, and it only appends to them: a delta-rs append (a few
milliseconds, no Spark job, no file rewritten) replaces a Spark MERGE or append (a second or
more each, most of it fixed cost). Spark still reads them, as plain Delta tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.transaction import CommitProperties, Transaction

from lakehouse.engine.storage.delta_log import delta_version


def append_once(table: Path, rows: pa.Table, app_id: str, version: int, **options: Any) -> None:
    """Append ``rows`` unless the append for ``(app_id, version)`` is already committed, so a
    replayed micro-batch adds nothing twice; ``options`` go to ``write_deltalake``.

    Example:
        >>> append_once(Path("/lh/pipelines/p/auto_cdc/t/events"), arrow_rows,
        ...             "lakehouse:p:flow", batch_id)  # doctest: +SKIP
    """
    if delta_version(table) >= 0:  # a commit cut short leaves an empty log
        done = DeltaTable(str(table)).transaction_version(app_id)
        if done is not None and done >= version:
            return
    write_deltalake(
        str(table),
        rows,
        mode="append",
        commit_properties=CommitProperties(app_transactions=[Transaction(app_id, version)]),
        **options,
    )

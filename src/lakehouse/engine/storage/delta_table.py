"""One Delta table in a folder, and everything the engine does to it directly: its log (read by
hand, cheap enough before every flow), its metadata and small writes through delta-rs, and
Spark's reads and MERGE.

Which writer a write goes through is decided elsewhere (``driver_writes.py``); this is the
table those decisions act on. MERGE clauses are written once for both writers: ``clauses``
receives the writer's identifier quoting (double quotes for delta-rs, backticks for Spark) and
returns SQL both understand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import deltalake
import pyarrow as pa
import pyarrow.compute as pc
from deltalake.transaction import CommitProperties, Transaction

if TYPE_CHECKING:  # Spark is imported by the methods that use it: the catalog does without
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

LOG_FOLDER = "_delta_log"
# A commit, or a checkpoint of the state at its version (the commits before it may be gone).
_COMMIT = re.compile(r"^(\d{20})\.(?:json|checkpoint(?:\.\d+\.\d+)?\.parquet)\Z")

Quote = Callable[[str], str]


@dataclass(frozen=True)
class MergeClauses:
    """A MERGE's condition and actions, as SQL, target aliased ``t`` and source ``s``; each
    action applies when its condition (if any) holds, in the order below."""

    on: str
    insert_values: Mapping[str, str] = field(default_factory=dict)
    insert_when: str | None = None
    delete_when: str | None = None
    update_set: Mapping[str, str] = field(default_factory=dict)
    update_when: str | None = None


@dataclass(frozen=True)
class LocalDeltaTable:
    """The Delta table stored at ``path``.

    Example:
        >>> table = LocalDeltaTable(Path("/lh/catalog/main/crm/users"))
        >>> table.version()  # doctest: +SKIP
        4
    """

    path: Path

    # -- the log ----------------------------------------------------------------------------

    def version(self) -> int:
        """The latest committed version, from the log folder's commits and checkpoints (-1 if
        none: no table, or a first commit cut short).

        Example:
            >>> LocalDeltaTable(Path("/nowhere")).version()
            -1
        """
        log = self.path / LOG_FOLDER
        if not log.is_dir():
            return -1
        return max(
            (int(m.group(1)) for p in log.iterdir() if (m := _COMMIT.match(p.name))), default=-1
        )

    def exists(self) -> bool:
        """Whether a commit created the table.

        Example:
            >>> LocalDeltaTable(Path("/nowhere")).exists()
            False
        """
        return self.version() >= 0

    def never_written(self) -> bool:
        """Whether the table was created empty and no write has reached it since (version 0,
        no files).

        Example:
            >>> LocalDeltaTable(Path("/lh/pipelines/p/auto_cdc/t/keys")).never_written()  # doctest: +SKIP
            True
        """
        first = self.path / LOG_FOLDER / f"{0:020d}.json"
        return self.version() == 0 and '"add":' not in first.read_text()

    def has_transaction(self, app_id: str) -> bool:
        """Whether a commit carries a transaction of ``app_id`` (Spark's ``txnAppId``), read
        from the table's state, so a checkpoint that replaced old commits still holds it.

        Example:
            >>> table.has_transaction("lakehouse:sales:backfill_orders")  # doctest: +SKIP
            True
        """
        return self.exists() and self.delta_rs().transaction_version(app_id) is not None

    def committed(self, version: int, *app_ids: str) -> bool:
        """Whether a commit of any of the transactions ``app_ids`` carries ``version`` or a
        later one (one read of the table's state, whatever their number).

        Example:
            >>> table.committed(7, "9a1e0c7e-4a0b-4d5c-9a57-3f1c2b7d1e20")  # doctest: +SKIP
            True
        """
        if not self.exists():
            return False
        snapshot = self.delta_rs()
        done = (snapshot.transaction_version(app_id) for app_id in app_ids)
        return any(v is not None and v >= version for v in done)

    def commit_metrics(self, after_version: int) -> dict[str, int]:
        """The operation metrics of the commits after ``after_version``, summed.

        Example:
            >>> table.commit_metrics(4)  # doctest: +SKIP
            {'numTargetRowsInserted': 3, 'numTargetRowsUpdated': 1, ...}
        """
        totals: dict[str, int] = {}
        for version in range(after_version + 1, self.version() + 1):
            commit = self.path / LOG_FOLDER / f"{version:020d}.json"
            for line in commit.read_text().splitlines():
                info = json.loads(line).get("commitInfo")
                for name, value in ((info or {}).get("operationMetrics") or {}).items():
                    if str(value).isdigit():
                        totals[name] = totals.get(name, 0) + int(value)
        return totals

    def commit_infos(self) -> Iterator[dict[str, Any]]:
        """The ``commitInfo`` of each commit still in the log, newest first (commits a
        checkpoint replaced and the log cleanup removed are not).

        Example:
            >>> next(table.commit_infos())["operation"]  # doctest: +SKIP
            'MERGE'
        """
        for version in range(self.version(), -1, -1):
            commit = self.path / LOG_FOLDER / f"{version:020d}.json"
            if not commit.is_file():
                return
            for line in commit.read_text().splitlines():
                info = json.loads(line).get("commitInfo") if line.strip() else None
                if info is not None:
                    yield info
                    break

    # -- metadata, through delta-rs ---------------------------------------------------------

    def live_bytes(self) -> int:
        """The size of the table's current data files, from its log (0 when it has none).

        Example:
            >>> table.live_bytes()  # doctest: +SKIP
            25165824
        """
        if not self.exists():
            return 0
        actions = self.delta_rs().get_add_actions(flatten=True)
        return int(pc.sum(pa.table(actions).column("size_bytes")).as_py() or 0)

    def delta_rs(self) -> deltalake.DeltaTable:
        """The table opened by delta-rs, at its latest version."""
        return deltalake.DeltaTable(str(self.path))

    def read_arrow(self, columns: list[str] | None = None) -> pa.Table:
        """The table's rows (``columns`` of them) as Arrow, read on the calling thread: the
        command line reads small operational tables this way, because pyarrow's scan threads
        can abort the process as it exits (delta-rs#2184, arrow#34314).

        Example:
            >>> table.read_arrow(["update_id"]).num_rows  # doctest: +SKIP
            42
        """
        return self.delta_rs().to_pyarrow_dataset().to_table(columns=columns, use_threads=False)

    def properties(self) -> dict[str, str]:
        """The table's properties.

        Example:
            >>> table.properties()  # doctest: +SKIP
            {'lakehouse.classification': 'general'}
        """
        return dict(self.delta_rs().metadata().configuration)

    def spark_schema(self, snapshot: deltalake.DeltaTable | None = None) -> StructType:
        """The table's schema as Spark's type (types, nullability, comments); from
        ``snapshot`` when given (one delta-rs opening for several questions)."""
        from pyspark.sql.types import StructType

        schema = (snapshot or self.delta_rs()).schema()
        return StructType.fromJson(json.loads(schema.to_json()))

    def row_count(self, snapshot: deltalake.DeltaTable | None = None) -> int | None:
        """The rows the table holds, from its files' statistics (None when a file has none);
        from ``snapshot`` when given.

        Example:
            >>> table.row_count()  # doctest: +SKIP
            42
        """
        actions = (snapshot or self.delta_rs()).get_add_actions(flatten=True)
        counts = pa.table(actions).column("num_records")
        return None if counts.null_count else int(pc.sum(counts).as_py() or 0)

    def delta_rs_writes(self) -> bool:
        """Whether the table exists and delta-rs writes it as Spark would: reader version 1,
        writer up to 4 (CHECK constraints, generated columns and the change data feed
        included; not deletion vectors, column mapping, clustering or other table features).

        Example:
            >>> table.delta_rs_writes()  # doctest: +SKIP
            True
        """
        if not self.exists():
            return False
        protocol = self.delta_rs().protocol()
        return protocol.min_reader_version == 1 and protocol.min_writer_version <= 4

    # -- writes through delta-rs ------------------------------------------------------------

    def create(
        self,
        schema: StructType,
        *,
        partition_by: list[str],
        comment: str | None,
        properties: Mapping[str, str],
    ) -> None:
        """Create the table with delta-rs (reader 1, writer 2, as Spark would) unless it
        exists; only for tables that need no table feature (``table_setup.py``)."""
        deltalake.DeltaTable.create(
            str(self.path),
            deltalake.Schema.from_json(schema.json()),
            mode="ignore",
            partition_by=partition_by or None,
            description=comment,
            configuration=dict(properties) or None,
            raise_if_key_not_exists=False,  # pipeline properties such as 'quality' are free-form
        )

    def set_properties(self, properties: Mapping[str, str]) -> None:
        """Set table properties in one commit (other properties are kept).

        Example:
            >>> table.set_properties({"lakehouse.classification": "general"})  # doctest: +SKIP
        """
        self.delta_rs().alter.set_table_properties(dict(properties), raise_if_not_exists=False)

    def append(self, rows: pa.Table, **options: Any) -> None:
        """Append ``rows``, creating the table on the first append; ``options`` go to
        ``write_deltalake``.

        Example:
            >>> LocalDeltaTable(Path("/lh/catalog/main/sales/event_log")).append(events)  # doctest: +SKIP
        """
        deltalake.write_deltalake(str(self.path), rows, mode="append", **options)

    def append_once(self, rows: pa.Table, app_id: str, version: int, **options: Any) -> None:
        """Append ``rows`` unless the append for ``(app_id, version)`` is already committed, so
        a replayed micro-batch adds nothing twice; ``options`` go to ``write_deltalake``.

        Example:
            >>> state.append_once(arrow_rows, "lakehouse:p:flow", batch_id)  # doctest: +SKIP
        """
        if not self.committed(version, app_id):
            self.append_in_transaction(rows, app_id, version, **options)

    def append_in_transaction(self, rows: pa.Table, app_id: str, version: int, **options: Any) -> None:  # fmt: skip
        """Append ``rows`` in a commit carrying transaction ``(app_id, version)``, unchecked:
        for a caller that knows it is not committed yet (``committed``).

        Example:
            >>> orders.append_in_transaction(arrow_rows, stream_id, batch_id)  # doctest: +SKIP
        """
        transaction = CommitProperties(app_transactions=[Transaction(app_id, version)])
        self.append(rows, commit_properties=transaction, **options)

    def overwrite(self, rows: pa.Table, partition_by: list[str]) -> None:
        """Replace every row with ``rows`` in one commit (every old file removed, the new ones
        added); the table keeps its schema and properties."""
        deltalake.write_deltalake(
            self.delta_rs(), rows, mode="overwrite", partition_by=partition_by or None
        )

    def keyed_rows(self, keys: pa.Table, columns: list[str]) -> pa.Table:
        """The ``columns`` of the rows whose key columns (those of ``keys``) equal a row of
        ``keys``, read by delta-rs; file statistics skip the other files.

        Example:
            >>> table.keyed_rows(pa.table({"id": [1, 2]}), ["id", "name"]).num_rows  # doctest: +SKIP
            2
        """
        names = keys.column_names
        snapshot = self.delta_rs()
        dataset = snapshot.to_pyarrow_dataset()
        key_type = dataset.schema.field(names[0]).type
        first = keys.column(names[0]).cast(key_type)
        try:
            rows = dataset.to_table(columns=columns, filter=pc.field(names[0]).isin(first))
        except pa.ArrowNotImplementedError:
            # Files delta-rs' MERGE wrote keep strings as string_view, whose statistics pyarrow
            # cannot compare: delta-rs picks the files by the log's statistics instead, and the
            # rows are filtered here.
            pruning = [(names[0], "in", first.to_pylist())] if pa.types.is_string(key_type) else None  # fmt: skip
            rows = snapshot.to_pyarrow_dataset(file_pruning_predicate=pruning).to_table(columns=columns)  # fmt: skip
            rows = rows.filter(pc.is_in(rows.column(names[0]), value_set=first))
        return rows if len(names) == 1 else rows_by_keys(rows, keys, matching=True)

    def merge_rows(
        self,
        rows: pa.Table,
        clauses: Callable[[Quote], MergeClauses],
        commit_properties: CommitProperties | None = None,
        small_source: bool = False,
    ) -> dict[str, int]:
        """MERGE ``rows`` into the table with delta-rs, in a commit with ``commit_properties``
        when given; returns the rows upserted and deleted. A ``small_source`` is held in
        memory rather than streamed (a quarter faster for thousands of rows).

        Example:
            >>> table.merge_rows(arrow_rows, lambda q: MergeClauses(
            ...     on=f"t.{q('id')} = s.{q('id')}", insert_values={q("id"): f"s.{q('id')}"}))  # doctest: +SKIP
            {'num_upserted_rows': 120, 'num_deleted_rows': 0}
        """
        if rows.num_rows == 0:
            return {"num_upserted_rows": 0, "num_deleted_rows": 0}
        c = clauses(_double_quoted)
        merge = self.delta_rs().merge(
            rows, c.on, source_alias="s", target_alias="t", commit_properties=commit_properties,
            streamed_exec=not small_source,
        )  # fmt: skip
        if c.delete_when is not None:
            merge = merge.when_matched_delete(predicate=c.delete_when)
        if c.update_set:
            merge = merge.when_matched_update(updates=dict(c.update_set), predicate=c.update_when)
        if c.insert_values:
            merge = merge.when_not_matched_insert(
                updates=dict(c.insert_values), predicate=c.insert_when
            )
        metrics = merge.execute()
        return {
            "num_upserted_rows": metrics["num_target_rows_inserted"]
            + metrics["num_target_rows_updated"],
            "num_deleted_rows": metrics["num_target_rows_deleted"],
        }

    # -- Spark ------------------------------------------------------------------------------

    def to_spark(
        self,
        spark: SparkSession,
        *,
        streaming: bool = False,
        options: Mapping[str, str] | None = None,
    ) -> DataFrame:
        """The table read by Spark (a stream when ``streaming``).

        Example:
            >>> table.to_spark(spark).count()  # doctest: +SKIP
            42
        """
        source = spark.readStream if streaming else spark.read
        return source.format("delta").options(**(options or {})).load(str(self.path))

    def merge_frame(
        self, rows: DataFrame, clauses: Callable[[Quote], MergeClauses]
    ) -> dict[str, int]:
        """MERGE ``rows`` into the table with Spark; returns the rows upserted and deleted.

        Example:
            >>> table.merge_frame(latest, users_clauses)  # doctest: +SKIP
            {'num_upserted_rows': 2400000, 'num_deleted_rows': 1200}
        """
        from lakehouse.engine.spark_connect import sql_over_views, temporary_view_name

        c = clauses(_backticked)
        actions = []
        if c.delete_when is not None:
            actions.append(f"WHEN MATCHED AND ({c.delete_when}) THEN DELETE")
        if c.update_set:
            when = f" AND ({c.update_when})" if c.update_when else ""
            sets = ", ".join(f"{column} = {value}" for column, value in c.update_set.items())
            actions.append(f"WHEN MATCHED{when} THEN UPDATE SET {sets}")
        if c.insert_values:
            when = f" AND ({c.insert_when})" if c.insert_when else ""
            columns = ", ".join(c.insert_values)
            values = ", ".join(c.insert_values.values())
            actions.append(f"WHEN NOT MATCHED{when} THEN INSERT ({columns}) VALUES ({values})")
        before = self.version()
        # SQL rather than delta-spark's DeltaTable.merge: the same command, and a Spark Connect
        # client reaches it without Delta's Connect plugin on the server.
        source = temporary_view_name()
        sql_over_views(
            rows.sparkSession,
            f"MERGE INTO delta.{_backticked(str(self.path))} AS t USING {source} AS s "
            f"ON {c.on} {' '.join(actions)}",
            {source: rows},
        )
        metrics = self.commit_metrics(before)
        return {
            "num_upserted_rows": metrics.get("numTargetRowsInserted", 0)
            + metrics.get("numTargetRowsUpdated", 0),
            "num_deleted_rows": metrics.get("numTargetRowsDeleted", 0),
        }

    def rows_with_keys(
        self, session: SparkSession, keys: DataFrame, schema: StructType, *, in_driver: bool
    ) -> DataFrame:
        """The rows whose key columns equal a row of ``keys``, with ``schema``'s columns: read
        by delta-rs and given to Spark as local data ``in_driver``, a semi join of the whole
        table otherwise.

        Example:
            >>> state.rows_with_keys(spark, batch.select("id").distinct(), state_schema,
            ...                      in_driver=True)  # doctest: +SKIP
            DataFrame[id: int, name: string, __seq: int, __delete: boolean]
        """
        if not in_driver:
            stored = self.to_spark(session)
            return stored.join(keys, keys.columns, "left_semi").select(*schema.fieldNames())
        rows = self.keyed_rows(keys.toArrow(), schema.fieldNames())
        return session.createDataFrame(rows, schema=schema)


def rows_by_keys(rows: pa.Table, keys: pa.Table, *, matching: bool) -> pa.Table:
    """The ``rows`` whose values in ``keys``' columns equal a row of ``keys`` (``matching``),
    or equal none of them.

    Example:
        >>> rows_by_keys(pa.table({"id": [1, 2], "v": ["a", "b"]}), pa.table({"id": [2]}),
        ...              matching=False).to_pylist()
        [{'id': 1, 'v': 'a'}]
    """
    names = keys.column_names
    wanted = set(zip(*(keys.column(n).to_pylist() for n in names), strict=True))
    found = zip(*(rows.column(n).to_pylist() for n in names), strict=True)
    return rows.filter(pa.array([(key in wanted) == matching for key in found], pa.bool_()))


def _double_quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _backticked(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"

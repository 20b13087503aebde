"""Runs one flow of an update: builds its query, skips it when its inputs have not changed
(or a ``once`` flow already ran), writes it (a streaming append or AUTO CDC merge, a batch
overwrite or backfill), and reports its rows and expectation metrics to the event log.

Which flows run, in what order and for how long is the scheduler's (``scheduler.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from lakehouse.engine.analysis.analyzer import AnalyzedDataset
from lakehouse.engine.cdc.events import END_AT, ResolvedAutoCdc, rejected_change
from lakehouse.engine.cdc.snapshots import SnapshotState, next_snapshots, snapshot_events
from lakehouse.engine.cdc.writer import AutoCdcWriter
from lakehouse.engine.errors import FlowFailed, PipelineError
from lakehouse.engine.execution.change_detection import (
    inputs_fingerprint,
    load_fingerprint,
    save_fingerprint,
)
from lakehouse.engine.execution.flow_reads import FlowReader, UpdateReads, observation_name
from lakehouse.engine.graph.elements import Flow
from lakehouse.engine.observability.error_report import error_summary, write_error_log
from lakehouse.engine.observability.event_log import EventLog
from lakehouse.engine.observability.masking import Masking
from lakehouse.engine.quality.expectations import (
    ExpectationCheck,
    ExpectationMetrics,
    apply_expectations,
    expectation_failure,
    merged_expectations,
)
from lakehouse.engine.session import reading_with
from lakehouse.engine.sources.cloud_files_state import RereadLog, files_taken
from lakehouse.engine.sources.overwritten_files import changed_files
from lakehouse.engine.spark_connect import observed_row
from lakehouse.engine.storage.delta_table import LocalDeltaTable
from lakehouse.engine.storage.driver_writes import backfill_sink
from lakehouse.engine.storage.small_refresh import overwrite_small_result
from lakehouse.engine.storage.streaming_append import StreamingAppend
from lakehouse.sql_quoting import quote_identifier

# (flow, status, what the flow did so far: its target table, rows, ...)
ProgressCallback = Callable[[str, str, "FlowResult"], None]
# The observed metric rows of one expectation check, read once its query ran.
MetricRows = Callable[[ExpectationCheck], list[Mapping[str, Any]]]


@dataclass
class FlowResult:
    """What one flow did in one update."""

    flow: str
    dataset: str
    num_output_rows: int = 0
    dropped_records: int = 0
    expectations: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    skipped: bool = False
    cdc_metrics: dict[str, int] = field(default_factory=dict)  # AUTO CDC: upserted, deleted


def add_expectation_metrics(
    result: FlowResult,
    checks: list[ExpectationCheck],
    rows_of: MetricRows,
) -> None:
    """Add to ``result`` the records each check passed, failed and dropped, from the
    observed metric rows ``rows_of`` gives for it."""
    for check in checks:
        if not check.expectations:
            continue
        metrics = ExpectationMetrics(check.dataset)
        for row in rows_of(check):
            metrics.add(check, row)
        result.dropped_records += metrics.dropped_records
        result.expectations.extend(metrics.as_event_details(check.expectations))


@dataclass
class RunningStream:
    """A flow's streaming query and what its result is collected from."""

    flow: Flow
    table: AnalyzedDataset
    query: StreamingQuery
    result: FlowResult
    cdc: AutoCdcWriter | None
    output: str  # the observation the written rows are counted from (``_rows_written``)
    checks: list[ExpectationCheck]

    def collect(self) -> None:
        observed: dict[str, list[dict[str, Any]]] = {}
        progresses = self.query.recentProgress
        for progress in progresses:
            for name, row in (progress.observedMetrics or {}).items():
                observed.setdefault(name, []).append(observed_row(row))
        result = self.result
        result.num_output_rows = sum(_rows_written(r) for r in observed.get(self.output, []))
        if self.cdc is not None:
            cdc_metrics = self.cdc.streamed_metrics(p.batchId for p in progresses)
            # The rows that reached the flow after its expectations: what ingestion's row
            # conservation check counts (num_output_rows is the rows upserted).
            result.cdc_metrics = {**cdc_metrics, "num_change_events": result.num_output_rows}
            result.num_output_rows = cdc_metrics.get("num_upserted_rows", 0)
        add_expectation_metrics(
            result, self.checks, lambda check: observed.get(check.observation, [])
        )


def _rows_written(metrics: dict[str, Any]) -> int:
    """From a count of the written rows, or from the table's expectation metrics."""
    if "rows" in metrics:
        return int(metrics["rows"] or 0)
    return int(metrics["input_records"] or 0) - int(metrics["dropped_records"] or 0)


class FlowRunner:
    """Runs flows one at a time for an update (the scheduler calls it from several threads,
    one flow each). ``trigger_interval`` set makes streams run continuously: they are
    started, kept in ``streams`` and left running until the scheduler stops them."""

    def __init__(
        self,
        reads: UpdateReads,
        event_log: EventLog,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.reads = reads
        self.settings = reads.settings
        self.event_log = event_log
        self.on_progress = on_progress or (lambda flow, status, result: None)
        self.trigger_interval: float | None = None
        self.streams: list[RunningStream] = []

    @property
    def continuous(self) -> bool:
        return self.trigger_interval is not None

    def run(self, flow: Flow, table: AnalyzedDataset, quiet: bool = False) -> FlowResult:
        """Run one flow and log it; ``quiet`` logs only a run that did something (the
        continuous refresh of a materialized view checks its inputs twice a second)."""
        log = self.event_log
        streaming = self.reads.analyzed.flow_streaming[flow.name]
        result = FlowResult(flow.name, table.name)
        if not quiet:
            log.flow_progress(flow.name, table.name, "STARTING")
            self.on_progress(flow.name, "STARTING", result)
        started = time.perf_counter()
        try:
            with self._flow_spark_conf(flow):
                if flow.once and self._once_done(flow, table):
                    result.skipped = True
                else:
                    self._run_query(flow, table, streaming, result)
        except PipelineError as error:
            log.flow_progress(flow.name, table.name, "FAILED", error=str(error))
            self.on_progress(flow.name, "FAILED", result)
            raise
        except Exception as error:  # Spark's and py4j's errors, reworded for the user
            failure = self.failure(error, flow, table)
            log.flow_progress(flow.name, table.name, "FAILED", error=str(failure))
            self.on_progress(flow.name, "FAILED", result)
            raise failure from error
        result.seconds = time.perf_counter() - started
        if any(s.result is result for s in self.streams):
            log.flow_progress(flow.name, table.name, "RUNNING")
            self.on_progress(flow.name, "RUNNING", result)
            log.flush()
        elif not (quiet and result.skipped):
            self.log_done(table.name, result)
        return result

    def sources_unchanged(self, flow: Flow) -> bool:
        """Whether the tables a view read at its last refresh are still at the same versions:
        a check of their logs, cheaper than building the query (the code cannot change while
        a continuous update runs)."""
        previous = load_fingerprint(self._fingerprint_file(flow))
        return previous is not None and all(
            LocalDeltaTable(Path(path)).version() == version
            for path, version in previous["sources"].items()
        )

    def raise_if_a_stream_failed(self) -> None:
        for stream in self.streams:
            error = stream.query.exception()
            if error is not None:
                raise self.failure(error, stream.flow, stream.table) from None

    def stop_streams(self) -> None:
        """Stop each stream when no micro-batch is running (a batch cut short would only be
        replayed by the next update, but a clean stop keeps the logs simple)."""
        for stream in self.streams:
            waited = 0.0
            while stream.query.isActive and stream.query.status["isTriggerActive"] and waited < 60:
                time.sleep(0.05)
                waited += 0.05
            stream.query.stop()

    def collect_streams(self) -> list[FlowResult]:
        """The results of the stopped streams, each logged as done."""
        for stream in self.streams:
            stream.collect()
            self.log_done(stream.table.name, stream.result)
        return [stream.result for stream in self.streams]

    def failure(self, error: BaseException, flow: Flow, table: AnalyzedDataset) -> PipelineError:
        """The error to report for ``flow``'s failure: one paragraph, classified values of
        ``table`` masked, the whole error in a log file under the pipeline's folder."""
        masking = Masking.of(table.dataset.table_properties)
        failure = (
            expectation_failure(error, flow.name, masking)
            or rejected_change(error, masking)
            or FlowFailed(
                f"flow '{flow.name}' into '{table.name}' failed: {error_summary(error, masking)}"
            )
        )
        logs = self.settings.state_dir / "logs"
        failure.log_file = write_error_log(error, logs, flow.name, str(failure), masking)
        return failure

    def log_done(self, dataset: str, result: FlowResult) -> None:
        status = "SKIPPED" if result.skipped else "COMPLETED"
        self.event_log.flow_progress(
            result.flow,
            dataset,
            status,
            metrics={"num_output_rows": result.num_output_rows, **result.cdc_metrics},
            data_quality={
                "dropped_records": result.dropped_records,
                "expectations": result.expectations,
            },
        )
        self.on_progress(result.flow, status, result)
        self.event_log.flush()

    # -- the query and whether it must run --------------------------------------------------

    def _query(
        self, flow: Flow, streaming: bool, rereading: Mapping[str, int] | None = None
    ) -> tuple[DataFrame, FlowReader]:
        reader = FlowReader(self.reads, flow, streaming and rereading is None, rereading)
        with reading_with(reader):
            frame = flow.query()
        return frame, reader

    def _run_query(
        self, flow: Flow, table: AnalyzedDataset, streaming: bool, result: FlowResult
    ) -> None:
        if flow.snapshot is not None:
            self._apply_snapshots(flow, table, result)
            return
        frame, reader = self._query(flow, streaming)
        extra = None if streaming else [repr(table.dataset.expectations), dict(flow.spark_conf)]
        fingerprint = inputs_fingerprint(frame, reader.sources, extra=extra)
        if fingerprint is not None and self._up_to_date(flow, streaming, fingerprint):
            result.skipped = True
            return
        if streaming:
            self._write_streaming(flow, table, frame, reader, result)
        else:
            self._write_batch(flow, table, frame, reader, result)
        if fingerprint is not None:
            save_fingerprint(self._fingerprint_file(flow), fingerprint)

    def _fingerprint_file(self, flow: Flow) -> Path:
        return self.settings.checkpoint(flow) / "lakehouse_inputs.json"

    def _up_to_date(self, flow: Flow, streaming: bool, fingerprint: dict[str, Any]) -> bool:
        if streaming and self.continuous:
            return False  # a continuous stream runs from the start, new data or not
        previous = load_fingerprint(self._fingerprint_file(flow))
        if previous is None:
            # A stream that has never run, over tables that no write has reached, has nothing
            # to read yet; when it first runs it starts from the beginning of its sources.
            fresh = not self.settings.checkpoint(flow).exists()
            return (
                streaming
                and fresh
                and all(LocalDeltaTable(Path(p)).never_written() for p in fingerprint["sources"])
            )
        if streaming:
            return previous["sources"] == fingerprint["sources"]
        return previous == fingerprint

    # -- expectations -----------------------------------------------------------------------

    @staticmethod
    def _checks(table: AnalyzedDataset, reader: FlowReader) -> list[ExpectationCheck]:
        """The checks of the views the flow read, then the table's own (always last)."""
        own = ExpectationCheck(observation_name(table.name), table.name, table.dataset.expectations)
        return [*reader.view_checks, own]

    def _expect_batch(
        self, frame: DataFrame, table: AnalyzedDataset, reader: FlowReader
    ) -> tuple[DataFrame, list[ExpectationCheck], MetricRows]:
        """A batch query with the table's expectations applied, every check it runs, and
        where each check's metrics are read once the query ran."""
        checks = self._checks(table, reader)
        own = checks[-1].observation
        observations = {**reader.observations, own: Observation(own)}
        frame = apply_expectations(frame, checks[-1], observations[own])
        return (
            frame,
            checks,
            lambda check: [observations[check.observation].get] if check.expectations else [],
        )

    # -- streaming writes -------------------------------------------------------------------

    def _write_streaming(
        self,
        flow: Flow,
        table: AnalyzedDataset,
        frame: DataFrame,
        reader: FlowReader,
        result: FlowResult,
    ) -> None:
        if self.continuous:  # files changed before this run; later ones wait for the next
            self._read_overwritten(flow, table, reader, result)
        checks = self._checks(table, reader)
        frame = apply_expectations(frame, checks[-1])
        # The rows written: those the table's own expectations counted and did not drop, or a
        # count of their own (each observation is a pass over every row).
        output = checks[-1].observation
        if not checks[-1].expectations:
            output = observation_name("output")
            frame = frame.observe(output, F.count(F.lit(1)).alias("rows"))
        trigger: dict[str, Any] = (
            {"processingTime": f"{int(self.trigger_interval * 1000)} milliseconds"}
            if self.trigger_interval is not None
            else {"availableNow": True}
        )
        writer = (
            frame.writeStream.option("checkpointLocation", str(self.settings.checkpoint(flow)))
            .queryName(flow.name)
            .trigger(**trigger)
        )
        cdc = self._auto_cdc_writer(flow, table, streaming=True)
        if cdc is not None:
            query = writer.foreachBatch(cdc).start()
        elif self._backfills_through_spark_sink(flow, table, frame):
            target = str(self.settings.table(table).path)
            query = writer.format("delta").option("mergeSchema", "true").start(target)
        else:
            query = writer.foreachBatch(self._streaming_append(flow, table)).start()
        stream = RunningStream(flow, table, query, result, cdc, output, checks)
        if not self.continuous:
            query.awaitTermination()
            stream.collect()
            self._read_overwritten(flow, table, reader, result)
        else:
            self.streams.append(stream)

    def _backfills_through_spark_sink(
        self, flow: Flow, table: AnalyzedDataset, stream: DataFrame
    ) -> bool:
        """A large first run of a plain streaming table, outside continuous mode (whose later
        batches are small and go through the driver): ``driver_writes.backfill_sink``."""
        return (
            not self.continuous
            and table.dataset.sink is None
            and backfill_sink(
                stream,
                self.settings.checkpoint(flow),
                self.settings.engine.spark_sink_min_backfill_bytes,
            )
        )

    def _streaming_append(
        self, flow: Flow, table: AnalyzedDataset, app_suffix: str = ""
    ) -> Callable[[DataFrame, int], Any]:
        """What each micro-batch of ``flow`` is given to: the sink's handler for a
        ``foreach_batch_sink``, else an idempotent append to the table (or Delta sink)."""
        sink = table.dataset.sink
        if sink is not None and sink.handler is not None:
            return sink.handler
        return StreamingAppend(
            self.settings.table(table),
            self.settings.checkpoint(flow),
            self.settings.engine.driver_write_max_batch_bytes,
            app_suffix,
        )

    def _read_overwritten(
        self, flow: Flow, table: AnalyzedDataset, reader: FlowReader, result: FlowResult
    ) -> None:
        """Append the flow's query over the files its Auto Loader streams took and that
        changed in place since (``cloudFiles.allowOverwrites``), once (``overwritten_files``)."""
        if not reader.overwritable:
            return
        checkpoint = self.settings.checkpoint(flow)
        log = RereadLog(checkpoint)
        batch = log.pending()  # begun by an update that stopped before committing it
        if batch is None:
            taken = files_taken(checkpoint)
            changed = {
                uri: modified
                for root, options in reader.overwritable.items()
                for uri, modified in changed_files(root, options, taken).items()
            }
            if not changed:
                return
            batch = log.begin(changed)
        batch_id, files = batch
        frame, rereader = self._query(flow, streaming=True, rereading=files)
        frame, checks, metric_rows = self._expect_batch(frame, table, rereader)
        output = Observation(observation_name("output"))
        append = self._streaming_append(flow, table, app_suffix=":rereads")
        append(frame.observe(output, F.count(F.lit(1)).alias("rows")), batch_id)
        log.commit(batch_id)
        result.num_output_rows += int(output.get.get("rows") or 0)
        reread = FlowResult(flow.name, table.name)
        add_expectation_metrics(reread, checks, metric_rows)
        result.dropped_records += reread.dropped_records
        result.expectations = merged_expectations(result.expectations, reread.expectations)

    def _auto_cdc_writer(
        self, flow: Flow, table: AnalyzedDataset, *, streaming: bool = False
    ) -> AutoCdcWriter | None:
        """The flow's AUTO CDC writer; a ``streaming`` one (a ``foreachBatch`` function) also
        leaves each batch's counts beside the flow's checkpoint."""
        cdc = self.reads.analyzed.auto_cdc.get(flow.name)
        if cdc is None:
            return None
        return AutoCdcWriter(
            cdc,
            self.settings.table(table),
            self.settings.auto_cdc_state(table.name),
            self._once_id(flow),
            self.settings.engine.driver_write_max_batch_bytes,
            self.settings.engine.driver_write_max_python_bytes,
            self.settings.checkpoint(flow) / "auto_cdc_metrics" if streaming else None,
        )

    def _apply_snapshots(self, flow: Flow, table: AnalyzedDataset, result: FlowResult) -> None:
        """Each snapshot after the latest applied, as the change events from what the target
        holds to it (``cdc/snapshots.py``), applied in version order."""
        assert flow.snapshot is not None
        cdc = self._auto_cdc_writer(flow, table)
        assert cdc is not None
        state = SnapshotState(self.settings.checkpoint(flow))
        reader = FlowReader(self.reads, flow, False, None)

        def read_table(name: str) -> DataFrame:
            return reader.read(name, streaming=False, location=flow.location)

        with reading_with(reader):
            found = next_snapshots(flow.snapshot, state.latest(), read_table, flow.location)
            for snapshot, version in found:
                current = self._current_rows(table, cdc.cdc, snapshot)
                cdc(snapshot_events(snapshot, current, cdc.cdc.keys, version), version)
                state.applied(version)
        if flow.once:
            self._once_marker(flow).parent.mkdir(parents=True, exist_ok=True)
            self._once_marker(flow).touch()
        result.cdc_metrics = dict(cdc.metrics)
        result.num_output_rows = cdc.metrics.get("num_upserted_rows", 0)

    def _current_rows(
        self, table: AnalyzedDataset, cdc: ResolvedAutoCdc, snapshot: DataFrame
    ) -> DataFrame:
        """The target's current rows (SCD2: the open versions), in the snapshot's columns."""
        stored = self.settings.table(table)
        if not stored.exists():
            return snapshot.limit(0)
        rows = self.reads.spark.read.format("delta").load(str(stored.path))
        if cdc.scd_type == 2:
            rows = rows.where(F.col(END_AT).isNull())
        return rows.select(*[F.col(f"`{c}`") for c in snapshot.columns])

    # -- batch writes -----------------------------------------------------------------------

    def _write_batch(
        self,
        flow: Flow,
        table: AnalyzedDataset,
        frame: DataFrame,
        reader: FlowReader,
        result: FlowResult,
    ) -> None:
        frame, checks, metric_rows = self._expect_batch(frame, table, reader)
        cdc = self._auto_cdc_writer(flow, table)
        if cdc is not None:  # a once AUTO CDC flow: its batch is applied as micro-batch 0
            cdc(frame, 0)
            self._once_marker(flow).parent.mkdir(parents=True, exist_ok=True)
            self._once_marker(flow).touch()
            result.cdc_metrics = dict(cdc.metrics)
            result.num_output_rows = cdc.metrics.get("num_upserted_rows", 0)
        else:
            self._write_delta_batch(flow, table, frame, result)
        add_expectation_metrics(result, checks, metric_rows)

    def _write_delta_batch(
        self, flow: Flow, table: AnalyzedDataset, frame: DataFrame, result: FlowResult
    ) -> None:
        output = Observation(observation_name("output"))
        frame = frame.observe(output, F.count(F.lit(1)).alias("rows"))
        stored = self.settings.table(table)
        if not flow.once and not table.dataset.cluster_by:
            written = overwrite_small_result(
                frame,
                stored,
                list(table.dataset.partition_cols),
                self.settings.engine.driver_write_max_view_rows,
            )
            if written is not None:
                result.num_output_rows = written
                return
        writer = frame.write.format("delta")
        if table.dataset.partition_cols:
            writer = writer.partitionBy(*table.dataset.partition_cols)
        if flow.once:  # a backfill appends once; the transaction id makes a retry a no-op
            writer = (
                writer.mode("append")
                .option("txnAppId", self._once_id(flow))
                .option("txnVersion", "0")
            )
        elif table.dataset.schema is not None:
            # A declared schema stays the table's: Delta fills its generated columns.
            writer = writer.mode("overwrite")
        else:
            writer = writer.mode("overwrite").option("overwriteSchema", "true")
        writer.save(str(stored.path))
        if table.dataset.cluster_by and not flow.once:
            # An overwrite through the DataFrame writer forgets the clustering columns.
            columns = ", ".join(map(quote_identifier, table.dataset.cluster_by))
            self.reads.spark.sql(
                f"ALTER TABLE delta.{quote_identifier(str(stored.path))} CLUSTER BY ({columns})"
            )
        result.num_output_rows = int(output.get.get("rows") or 0)

    def _once_id(self, flow: Flow) -> str:
        return f"lakehouse:{self.settings.name}:{flow.name}"

    def _once_marker(self, flow: Flow) -> Path:
        """Marks a ``once`` AUTO CDC flow as applied (re-applying its events changes nothing,
        so a crash before the mark only repeats work)."""
        return self.settings.checkpoint(flow) / "once_applied"

    def _once_done(self, flow: Flow, table: AnalyzedDataset) -> bool:
        """Whether this once flow's append is already committed to the table."""
        if flow.auto_cdc is not None:
            return self._once_marker(flow).exists()
        return self.settings.table(table).has_transaction(self._once_id(flow))

    @contextmanager
    def _flow_spark_conf(self, flow: Flow) -> Iterator[None]:
        previous = {key: self.reads.spark.conf.get(key, None) for key in flow.spark_conf}
        for key, value in flow.spark_conf.items():
            self.reads.spark.conf.set(key, value)
        try:
            yield
        finally:
            for key, value in previous.items():
                if value is None:
                    self.reads.spark.conf.unset(key)
                else:
                    self.reads.spark.conf.set(key, value)

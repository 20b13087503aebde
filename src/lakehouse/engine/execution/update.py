"""Runs an analysed pipeline graph: one update, table by table in dependency order.

Streaming tables are written by Structured Streaming (``availableNow``) into Delta with a
checkpoint per flow, so each update processes only what arrived since the last one.
Materialized views are recomputed and overwritten. Views are inlined where they are read.
"""

from __future__ import annotations

import itertools
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery
from pyspark.sql.types import StructType

from lakehouse.engine.analysis.analyzer import AnalyzedDataset, AnalyzedGraph, resolve_dataset_name
from lakehouse.engine.cdc.events import rejected_change
from lakehouse.engine.cdc.writer import AutoCdcWriter
from lakehouse.engine.errors import ConfigurationError, FlowFailed, PipelineError
from lakehouse.engine.execution.change_detection import (
    inputs_fingerprint,
    load_fingerprint,
    save_fingerprint,
)
from lakehouse.engine.execution.pipeline_settings import PipelineSettings
from lakehouse.engine.graph.elements import DatasetKind, Flow, SourceLocation
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
from lakehouse.engine.session import CatalogReader, reading_with
from lakehouse.engine.sources.auto_loader import auto_loader_stream
from lakehouse.engine.sources.cloud_files_state import RereadLog, files_taken, local_path
from lakehouse.engine.sources.overwritten_files import allows_overwrites, changed_files
from lakehouse.engine.storage.delta_log import delta_version, never_written
from lakehouse.engine.storage.driver_reads import read_delta
from lakehouse.engine.storage.small_refresh import overwrite_small_result
from lakehouse.engine.storage.streaming_append import StreamingAppend
from lakehouse.engine.storage.table_setup import ensure_table, nullable, sync_properties
from lakehouse.sql_quoting import quote_identifier

# (flow, status, what the flow did so far: its target table, rows, ...)
ProgressCallback = Callable[[str, str, "FlowResult"], None]


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


_observation_ids = itertools.count()


def _observation_name(dataset: str) -> str:
    return f"{dataset}#{next(_observation_ids)}"


def add_expectation_metrics(
    result: FlowResult,
    checks: list[ExpectationCheck],
    rows_of: Callable[[ExpectationCheck], list[Mapping[str, Any]]],
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


@dataclass(frozen=True)
class UpdateReads:
    """What a flow's reads resolve against in one update: the analyzed graph, where its
    tables are stored, and the catalog for the tables outside the pipeline."""

    spark: SparkSession
    analyzed: AnalyzedGraph
    settings: PipelineSettings
    catalog_reader: CatalogReader


class _FlowReader:
    """Reads for one flow while it runs: stored tables, inlined views, catalog tables."""

    def __init__(
        self,
        reads: UpdateReads,
        flow: Flow,
        streaming: bool,
        rereading: Mapping[str, int] | None = None,
    ) -> None:
        self.reads = reads
        self.flow = flow
        self.streaming = streaming
        self.view_checks: list[ExpectationCheck] = []
        self.observations: dict[str, Observation] = {}  # batch queries only
        self.sources: list[tuple[Path, int]] = []  # pipeline tables read and their versions
        # Auto Loader folders whose files changed in place are read again (allowOverwrites).
        self.overwritable: dict[str, Mapping[str, str]] = {}
        # Set to read again only these changed files (URI -> modification time), as a batch.
        self.rereading = rereading

    def read(
        self,
        name: str,
        *,
        streaming: bool,
        location: SourceLocation | None,
        options: Mapping[str, str] | None = None,
    ) -> DataFrame:
        reads = self.reads
        key = resolve_dataset_name(reads.analyzed.graph, name, reads.settings.default)
        dataset = reads.analyzed.datasets[key] if key is not None else None
        if self.rereading is not None and streaming:
            # Only the changed files are read again; a stream's other sources add nothing.
            frame = self.read(name, streaming=False, location=location)
            return frame if dataset and dataset.kind is DatasetKind.VIEW else frame.limit(0)
        if dataset is None:
            return reads.catalog_reader.read(
                name, streaming=streaming, location=location, options=options
            )
        if dataset.kind is DatasetKind.VIEW:
            (flow,) = reads.analyzed.graph.flows_into(key)
            frame = flow.query()
            check = ExpectationCheck(_observation_name(key), key, dataset.dataset.expectations)
            observer = None
            if check.expectations:
                self.view_checks.append(check)
                if not self.streaming:
                    observer = self.observations[check.observation] = Observation(check.observation)
            return apply_expectations(frame, check, observer)
        path = reads.settings.table_path(dataset)
        # The version before the read: a commit landing meanwhile makes the next check rerun.
        self.sources.append((path, delta_version(path)))
        return read_delta(
            reads.spark,
            path,
            streaming=streaming,
            options=options,
            max_driver_rows=reads.catalog_reader.max_driver_rows,
        )

    def auto_loader(
        self,
        path: str,
        options: Mapping[str, str],
        schema: StructType | None,
        location: SourceLocation | None,
    ) -> DataFrame:
        default_location = self.reads.settings.auto_loader_state(self.flow)
        files = None
        if allows_overwrites(options):
            if self.flow.auto_cdc is not None:
                raise ConfigurationError(
                    f"flow '{self.flow.name}': cloudFiles.allowOverwrites is supported for "
                    "append flows; read the files into a streaming table first, then apply "
                    "AUTO CDC from it"
                )
            self.overwritable[path] = options
            if self.rereading is not None:
                under = local_path(path).resolve()
                files = [
                    str(local_path(f))
                    for f in self.rereading
                    if local_path(f).is_relative_to(under)
                ]
        return auto_loader_stream(
            self.reads.spark,
            path,
            options,
            schema,
            default_location,
            check_new_columns=False,  # this update's analysis already applied the mode
            files=files,
        )


@dataclass
class _RunningStream:
    """A flow's streaming query and what its result is collected from."""

    flow: Flow
    table: AnalyzedDataset
    query: StreamingQuery
    result: FlowResult
    cdc: AutoCdcWriter | None
    output: str  # the observation that counts written rows
    checks: list[ExpectationCheck]

    def collect(self) -> None:
        observed: dict[str, list[dict[str, Any]]] = {}
        for progress in self.query.recentProgress:
            for name, row in (progress.observedMetrics or {}).items():
                observed.setdefault(name, []).append(row.asDict())
        result = self.result
        result.num_output_rows = sum(int(r["rows"] or 0) for r in observed.get(self.output, []))
        if self.cdc is not None:
            # The rows that reached the flow after its expectations: what ingestion's row
            # conservation check counts (num_output_rows is the rows upserted).
            result.cdc_metrics = {
                **self.cdc.metrics,
                "num_change_events": result.num_output_rows,
            }
            result.num_output_rows = self.cdc.metrics.get("num_upserted_rows", 0)
        add_expectation_metrics(
            result, self.checks, lambda check: observed.get(check.observation, [])
        )


class PipelineUpdate:
    """One update of a pipeline: runs every flow of the selected tables. As in the Databricks
    update API, ``full_refresh`` rebuilds every table, and ``full_refresh_selection`` names the
    only tables the update rebuilds and runs."""

    def __init__(
        self,
        spark: SparkSession,
        settings: PipelineSettings,
        analyzed: AnalyzedGraph,
        event_log: EventLog,
        *,
        full_refresh: bool = False,
        full_refresh_selection: tuple[str, ...] = (),
        on_progress: ProgressCallback | None = None,
        max_parallel: int | None = None,
    ) -> None:
        self.spark = spark
        self.settings = settings
        self.analyzed = analyzed
        self.event_log = event_log
        self.full_refresh = full_refresh
        self.full_refresh_selection = full_refresh_selection
        self.on_progress = on_progress or (lambda flow, status, result: None)
        self.reads = UpdateReads(spark, analyzed, settings, settings.catalog_reader(spark))
        self.max_parallel = max_parallel or settings.engine.max_parallel_flows
        self.trigger: dict[str, Any] = {"availableNow": True}
        self.streams: list[_RunningStream] = []  # continuous mode: queries left running

    @property
    def _continuous(self) -> bool:
        return "availableNow" not in self.trigger

    def selected_tables(self) -> list[AnalyzedDataset]:
        tables = self.analyzed.tables()
        if self.full_refresh_selection:
            return [t for t in tables if t.name in self.full_refresh_selection]
        return tables

    def run(self) -> list[FlowResult]:
        """Run every selected table's flows; a table starts as soon as its inputs are done.

        Independent tables run side by side (``max_parallel`` at a time): most of a small
        flow's time is latency (planning, commits), which overlaps well even on two cores.
        """
        tables = {t.name: t for t in self.selected_tables()}
        waiting_on = {name: set(t.upstream) & tables.keys() for name, t in tables.items()}
        results: dict[str, list[FlowResult]] = {}
        failure: BaseException | None = None
        with ThreadPoolExecutor(self.max_parallel, thread_name_prefix="flow") as pool:
            running: dict[Future[list[FlowResult]], str] = {}
            while waiting_on or running:
                ready = [n for n, deps in waiting_on.items() if deps <= results.keys()]
                for name in ready if failure is None else []:
                    del waiting_on[name]
                    running[pool.submit(self._run_table, tables[name])] = name
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    try:
                        results[name] = future.result()
                    except BaseException as error:
                        failure = failure or error
        if failure is not None:
            raise failure
        return [result for name in tables for result in results.get(name, [])]

    def run_continuously(
        self, seconds: float | None, interval: float = 0.5, stop: threading.Event | None = None
    ) -> list[FlowResult]:
        """Keep every streaming flow running (a trigger each ``interval`` seconds, or as the
        pipeline's ``pipelines.trigger.interval`` says) and recompute materialized views when
        their inputs change, for ``seconds`` or until ``stop`` is set
        or Ctrl-C; then stop each stream between two micro-batches.

        Example:
            >>> update.run_continuously(seconds=60)  # doctest: +SKIP
        """
        stop = stop or threading.Event()
        interval = self.settings.engine.trigger_interval or interval
        self.trigger = {"processingTime": f"{int(interval * 1000)} milliseconds"}
        deadline = None if seconds is None else time.monotonic() + seconds
        results: dict[str, FlowResult] = {}
        views = [t for t in self.selected_tables() if t.kind is DatasetKind.MATERIALIZED_VIEW]
        try:
            results.update((r.flow, r) for r in self.run())
            while not stop.wait(interval) and (deadline is None or time.monotonic() < deadline):
                self._raise_if_a_stream_failed()
                results.update(self._refresh_views(views))
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a continuous update is stopped
        finally:
            self._stop_streams()
        self._raise_if_a_stream_failed()
        results.update(self._refresh_views(views))  # the views reflect what the streams wrote
        for stream in self.streams:
            stream.collect()
            results[stream.result.flow] = stream.result
            self._log_flow_done(stream.table.name, stream.result)
        return list(results.values())

    def _refresh_views(self, views: list[AnalyzedDataset]) -> dict[str, FlowResult]:
        """Recompute the views whose inputs changed (change detection skips the others)."""
        refreshed = {}
        for view in views:
            for flow in self.analyzed.graph.flows_into(view.name):
                if self._sources_unchanged(flow):
                    continue
                result = self._run_flow(flow, view, quiet=True)
                if not result.skipped:
                    refreshed[result.flow] = result
        return refreshed

    def _sources_unchanged(self, flow: Flow) -> bool:
        """Whether the tables a view read at its last refresh are still at the same versions:
        a check of their logs, cheaper than building the query (the code cannot change while
        a continuous update runs)."""
        previous = load_fingerprint(self._fingerprint_file(flow))
        return previous is not None and all(
            delta_version(Path(path)) == version for path, version in previous["sources"].items()
        )

    def _stop_streams(self) -> None:
        """Stop each stream when no micro-batch is running (a batch cut short would only be
        replayed by the next update, but a clean stop keeps the logs simple)."""
        for stream in self.streams:
            waited = 0.0
            while stream.query.isActive and stream.query.status["isTriggerActive"] and waited < 60:
                time.sleep(0.05)
                waited += 0.05
            stream.query.stop()

    def _raise_if_a_stream_failed(self) -> None:
        for stream in self.streams:
            error = stream.query.exception()
            if error is not None:
                raise self._flow_failure(error, stream.flow, stream.table) from None

    def _run_table(self, table: AnalyzedDataset) -> list[FlowResult]:
        if self.full_refresh or table.name in self.full_refresh_selection:
            self._reset(table)
        flows = self.analyzed.graph.flows_into(table.name)
        # A long-running stream must start over a table that exists: created by its own first
        # write, it would race the empty table made for readers below.
        if self._continuous or _declares_table_metadata(table) or any(f.auto_cdc for f in flows):
            self._ensure_table(table)
            sync_properties(self.spark, self.settings.table_path(table), table.dataset)
        results = [self._run_flow(f, table) for f in flows]
        # Otherwise the first write creates the table (a separate create costs a commit);
        # when no rows came, an empty table still has to exist for readers downstream.
        self._ensure_table(table)
        return results

    # -- tables -----------------------------------------------------------------------------

    def _reset(self, table: AnalyzedDataset) -> None:
        shutil.rmtree(self.settings.table_path(table), ignore_errors=True)
        for flow in self.analyzed.graph.flows_into(table.name):
            shutil.rmtree(self.settings.checkpoint(flow), ignore_errors=True)
            shutil.rmtree(self.settings.auto_loader_state(flow), ignore_errors=True)
        shutil.rmtree(self.settings.auto_cdc_state(table.name), ignore_errors=True)

    def _ensure_table(self, table: AnalyzedDataset) -> None:
        # Without a declared schema, the table gets the columns its first write would give
        # it: Delta makes every column of a written DataFrame nullable.
        schema = table.schema if table.dataset.schema is not None else nullable(table.schema)
        ensure_table(self.spark, self.settings.table_path(table), table.dataset, schema)

    # -- flows ------------------------------------------------------------------------------

    def _run_flow(self, flow: Flow, table: AnalyzedDataset, quiet: bool = False) -> FlowResult:
        """Run one flow and log it; ``quiet`` logs only a run that did something (the
        continuous refresh of a materialized view checks its inputs twice a second)."""
        log = self.event_log
        streaming = self.analyzed.flow_streaming[flow.name]
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
            failure = self._flow_failure(error, flow, table)
            log.flow_progress(flow.name, table.name, "FAILED", error=str(failure))
            self.on_progress(flow.name, "FAILED", result)
            raise failure from error
        result.seconds = time.perf_counter() - started
        if any(s.result is result for s in self.streams):
            log.flow_progress(flow.name, table.name, "RUNNING")
            self.on_progress(flow.name, "RUNNING", result)
            log.flush()
        elif not (quiet and result.skipped):
            self._log_flow_done(table.name, result)
        return result

    def _flow_failure(
        self, error: BaseException, flow: Flow, table: AnalyzedDataset
    ) -> PipelineError:
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

    def _log_flow_done(self, dataset: str, result: FlowResult) -> None:
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

    def _query(
        self, flow: Flow, streaming: bool, rereading: Mapping[str, int] | None = None
    ) -> tuple[DataFrame, _FlowReader]:
        reader = _FlowReader(self.reads, flow, streaming and rereading is None, rereading)
        with reading_with(reader):
            frame = flow.query()
        return frame, reader

    def _checks(self, table: AnalyzedDataset, reader: _FlowReader) -> list[ExpectationCheck]:
        own = ExpectationCheck(
            _observation_name(table.name), table.name, table.dataset.expectations
        )
        return [*reader.view_checks, own]

    def _run_query(
        self, flow: Flow, table: AnalyzedDataset, streaming: bool, result: FlowResult
    ) -> None:
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
        if streaming and self._continuous:
            return False  # a continuous stream runs from the start, new data or not
        previous = load_fingerprint(self._fingerprint_file(flow))
        if previous is None:
            # A stream that has never run, over tables that no write has reached, has nothing
            # to read yet; when it first runs it starts from the beginning of its sources.
            fresh = not self.settings.checkpoint(flow).exists()
            return (
                streaming and fresh and all(map(never_written, map(Path, fingerprint["sources"])))
            )
        if streaming:
            return previous["sources"] == fingerprint["sources"]
        return previous == fingerprint

    def _write_streaming(
        self,
        flow: Flow,
        table: AnalyzedDataset,
        frame: DataFrame,
        reader: _FlowReader,
        result: FlowResult,
    ) -> None:
        if self._continuous:  # files changed before this run; later ones wait for the next
            self._read_overwritten(flow, table, reader, result)
        checks = self._checks(table, reader)
        frame = apply_expectations(frame, checks[-1])
        output = _observation_name("output")
        frame = frame.observe(output, F.count(F.lit(1)).alias("rows"))
        writer = (
            frame.writeStream.option("checkpointLocation", str(self.settings.checkpoint(flow)))
            .queryName(flow.name)
            .trigger(**self.trigger)
        )
        cdc = self._auto_cdc_writer(flow, table)
        if cdc is None:
            query = writer.foreachBatch(self._streaming_append(flow, table)).start()
        else:
            query = writer.foreachBatch(cdc).start()
        stream = _RunningStream(flow, table, query, result, cdc, output, checks)
        if not self._continuous:
            query.awaitTermination()
            stream.collect()
            self._read_overwritten(flow, table, reader, result)
        else:
            self.streams.append(stream)

    def _streaming_append(
        self, flow: Flow, table: AnalyzedDataset, app_suffix: str = ""
    ) -> StreamingAppend:
        return StreamingAppend(
            self.settings.table_path(table),
            self.settings.checkpoint(flow),
            self.settings.engine.driver_write_max_batch_bytes,
            app_suffix,
        )

    def _read_overwritten(
        self, flow: Flow, table: AnalyzedDataset, reader: _FlowReader, result: FlowResult
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
        checks = self._checks(table, rereader)
        observations = {
            **rereader.observations,
            checks[-1].observation: Observation(checks[-1].observation),
        }
        frame = apply_expectations(frame, checks[-1], observations[checks[-1].observation])
        output = Observation(_observation_name("output"))
        append = self._streaming_append(flow, table, app_suffix=":rereads")
        append(frame.observe(output, F.count(F.lit(1)).alias("rows")), batch_id)
        log.commit(batch_id)
        result.num_output_rows += int(output.get.get("rows") or 0)
        reread = FlowResult(flow.name, table.name)
        add_expectation_metrics(
            reread,
            checks,
            lambda check: [observations[check.observation].get] if check.expectations else [],
        )
        result.dropped_records += reread.dropped_records
        result.expectations = merged_expectations(result.expectations, reread.expectations)

    def _auto_cdc_writer(self, flow: Flow, table: AnalyzedDataset) -> AutoCdcWriter | None:
        cdc = self.analyzed.auto_cdc.get(flow.name)
        if cdc is None:
            return None
        return AutoCdcWriter(
            cdc,
            self.settings.table_path(table),
            self.settings.auto_cdc_state(table.name),
            self._once_id(flow),
            self.settings.engine.driver_write_max_batch_bytes,
            self.settings.engine.driver_write_max_python_bytes,
        )

    def _write_batch(
        self,
        flow: Flow,
        table: AnalyzedDataset,
        frame: DataFrame,
        reader: _FlowReader,
        result: FlowResult,
    ) -> None:
        checks = self._checks(table, reader)
        observations = {
            **reader.observations,
            checks[-1].observation: Observation(checks[-1].observation),
        }
        frame = apply_expectations(frame, checks[-1], observations[checks[-1].observation])
        cdc = self._auto_cdc_writer(flow, table)
        if cdc is not None:  # a once AUTO CDC flow: its batch is applied as micro-batch 0
            cdc(frame, 0)
            self._once_marker(flow).parent.mkdir(parents=True, exist_ok=True)
            self._once_marker(flow).touch()
            result.cdc_metrics = dict(cdc.metrics)
            result.num_output_rows = cdc.metrics.get("num_upserted_rows", 0)
        else:
            self._write_delta_batch(flow, table, frame, result)
        add_expectation_metrics(
            result,
            checks,
            lambda check: [observations[check.observation].get] if check.expectations else [],
        )

    def _write_delta_batch(
        self, flow: Flow, table: AnalyzedDataset, frame: DataFrame, result: FlowResult
    ) -> None:
        output = Observation(_observation_name("output"))
        frame = frame.observe(output, F.count(F.lit(1)).alias("rows"))
        path = self.settings.table_path(table)
        if not flow.once and not table.dataset.cluster_by:
            written = overwrite_small_result(
                frame,
                path,
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
        else:
            writer = writer.mode("overwrite").option("overwriteSchema", "true")
        writer.save(str(path))
        if table.dataset.cluster_by and not flow.once:
            # An overwrite through the DataFrame writer forgets the clustering columns.
            columns = ", ".join(map(quote_identifier, table.dataset.cluster_by))
            self.spark.sql(
                f"ALTER TABLE delta.{quote_identifier(str(path))} CLUSTER BY ({columns})"
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
        log = self.settings.table_path(table) / "_delta_log"
        marker = f'"appId":"{self._once_id(flow)}"'
        return any(marker in commit.read_text() for commit in log.glob("*.json"))

    @contextmanager
    def _flow_spark_conf(self, flow: Flow) -> Iterator[None]:
        previous = {key: self.spark.conf.get(key, None) for key in flow.spark_conf}
        for key, value in flow.spark_conf.items():
            self.spark.conf.set(key, value)
        try:
            yield
        finally:
            for key, value in previous.items():
                if value is None:
                    self.spark.conf.unset(key)
                else:
                    self.spark.conf.set(key, value)


def _declares_table_metadata(table: AnalyzedDataset) -> bool:
    dataset = table.dataset
    return bool(
        dataset.comment
        or dataset.table_properties
        or dataset.partition_cols
        or dataset.cluster_by
        or dataset.schema is not None
    )

"""Schedules one update of an analysed pipeline graph: which tables it runs, in dependency
order with independent tables side by side, and for how long (once, or continuously).

Streaming tables are written by Structured Streaming into Delta with a checkpoint per flow, so
each update processes only what arrived since the last one. Materialized views are recomputed
and overwritten. Views are inlined where they are read. Running one flow is the flow runner's
(``flow_runner.py``).
"""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from pyspark.sql import SparkSession

from lakehouse.engine.analysis.analyzer import AnalyzedDataset, AnalyzedGraph
from lakehouse.engine.execution.flow_reads import UpdateReads
from lakehouse.engine.execution.flow_runner import FlowResult, FlowRunner, ProgressCallback
from lakehouse.engine.execution.pipeline_settings import PipelineSettings
from lakehouse.engine.graph.elements import DatasetKind
from lakehouse.engine.observability.event_log import EventLog
from lakehouse.engine.storage.table_setup import ensure_table, nullable, sync_properties


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
        self.settings = settings
        self.analyzed = analyzed
        self.full_refresh = full_refresh
        self.full_refresh_selection = full_refresh_selection
        reads = UpdateReads(spark, analyzed, settings, settings.catalog_reader(spark))
        self.flows = FlowRunner(reads, event_log, on_progress)
        self.max_parallel = max_parallel or settings.engine.max_parallel_flows

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
        self.flows.trigger_interval = interval
        deadline = None if seconds is None else time.monotonic() + seconds
        results: dict[str, FlowResult] = {}
        views = [t for t in self.selected_tables() if t.kind is DatasetKind.MATERIALIZED_VIEW]
        try:
            results.update((r.flow, r) for r in self.run())
            while not stop.wait(interval) and (deadline is None or time.monotonic() < deadline):
                self.flows.raise_if_a_stream_failed()
                results.update(self._refresh_views(views))
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a continuous update is stopped
        finally:
            self.flows.stop_streams()
        self.flows.raise_if_a_stream_failed()
        results.update(self._refresh_views(views))  # the views reflect what the streams wrote
        results.update((r.flow, r) for r in self.flows.collect_streams())
        return list(results.values())

    def _refresh_views(self, views: list[AnalyzedDataset]) -> dict[str, FlowResult]:
        """Recompute the views whose inputs changed (change detection skips the others)."""
        refreshed = {}
        for view in views:
            for flow in self.analyzed.graph.flows_into(view.name):
                if self.flows.sources_unchanged(flow):
                    continue
                result = self.flows.run(flow, view, quiet=True)
                if not result.skipped:
                    refreshed[result.flow] = result
        return refreshed

    def _run_table(self, table: AnalyzedDataset) -> list[FlowResult]:
        if self.full_refresh or table.name in self.full_refresh_selection:
            self._reset(table)
        flows = self.analyzed.graph.flows_into(table.name)
        if table.dataset.is_sink:  # written where it points, as its flows' batches come
            return [self.flows.run(f, table) for f in flows]
        # A long-running stream must start over a table that exists: created by its own first
        # write, it would race the empty table made for readers below.
        if (
            self.flows.continuous
            or _declares_table_metadata(table)
            or any(f.auto_cdc for f in flows)
        ):
            self._ensure_table(table)
            sync_properties(self.flows.reads.spark, self.settings.table(table), table.dataset)
        results = [self.flows.run(f, table) for f in flows]
        # Otherwise the first write creates the table (a separate create costs a commit);
        # when no rows came, an empty table still has to exist for readers downstream.
        self._ensure_table(table)
        return results

    def _reset(self, table: AnalyzedDataset) -> None:
        if not table.dataset.is_sink:  # a full refresh reprocesses into a sink, never clears it
            shutil.rmtree(self.settings.table_path(table), ignore_errors=True)
        for flow in self.analyzed.graph.flows_into(table.name):
            shutil.rmtree(self.settings.checkpoint(flow), ignore_errors=True)
            shutil.rmtree(self.settings.auto_loader_state(flow), ignore_errors=True)
        shutil.rmtree(self.settings.auto_cdc_state(table.name), ignore_errors=True)

    def _ensure_table(self, table: AnalyzedDataset) -> None:
        # Without a declared schema, the table gets the columns its first write would give
        # it: Delta makes every column of a written DataFrame nullable.
        schema = table.schema if table.dataset.schema is not None else nullable(table.schema)
        ensure_table(self.flows.reads.spark, self.settings.table(table), table.dataset, schema)


def _declares_table_metadata(table: AnalyzedDataset) -> bool:
    dataset = table.dataset
    return bool(
        dataset.comment
        or dataset.table_properties
        or dataset.partition_cols
        or dataset.cluster_by
        or dataset.schema is not None
    )

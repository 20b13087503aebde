"""Checks a pipeline graph and orders it before any data moves.

Each flow's query function is called once with a reader that records what it reads and
hands back empty DataFrames with the right schema. That yields the dependencies, whether
each table is a streaming table or a materialized view, and every graph error (unknown
dataset, cycle, streaming read of a materialized view, actions inside a query) with the file
and line where it was written.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from lakehouse.engine.analysis.table_schema import parse_table_schema
from lakehouse.engine.cdc.events import ResolvedAutoCdc, resolve_auto_cdc
from lakehouse.engine.errors import GraphError, PipelineError, exception_line
from lakehouse.engine.graph.elements import (
    Dataset,
    DatasetKind,
    Flow,
    PipelineGraph,
    SourceLocation,
)
from lakehouse.engine.graph.names import TableName, split_identifier
from lakehouse.engine.graph.source_location import user_code_location
from lakehouse.engine.quality.expectations import violated
from lakehouse.engine.session import CatalogReader, reading_with
from lakehouse.engine.sources.auto_loader import auto_loader_stream
from lakehouse.engine.storage.catalog import LocalCatalog


@dataclass(frozen=True)
class AnalyzedDataset:
    dataset: Dataset
    kind: DatasetKind  # never TABLE: resolved to STREAMING_TABLE or MATERIALIZED_VIEW
    schema: StructType
    upstream: tuple[str, ...]  # datasets of this pipeline it reads, directly or through views

    @property
    def name(self) -> str:
        return self.dataset.name


@dataclass(frozen=True)
class AnalyzedGraph:
    graph: PipelineGraph
    datasets: Mapping[str, AnalyzedDataset]  # in dependency order: upstream first
    flow_streaming: Mapping[str, bool]
    auto_cdc: Mapping[str, ResolvedAutoCdc]  # by flow name, for AUTO CDC flows
    # By flow name: what its query reads directly, this pipeline's datasets and other tables
    # (fully qualified), for lineage; views are inputs themselves, not what they read.
    flow_inputs: Mapping[str, tuple[str, ...]]

    def tables(self) -> list[AnalyzedDataset]:
        """What an update writes into: its tables and its sinks."""
        return [d for d in self.datasets.values() if d.kind is not DatasetKind.VIEW]


def resolve_dataset_name(graph: PipelineGraph, name: str, default: tuple[str, str]) -> str | None:
    """The key of the pipeline dataset ``name`` refers to, or None if it names none."""
    parts = split_identifier(name)
    if len(parts) == 1 or (len(parts) == 2 and parts[0] == "live"):
        view = graph.dataset(parts[-1])
        if view is not None and view.is_view:
            return view.name
    key = str(TableName.parse(name, *default))
    return key if graph.dataset(key) is not None else None


# Actions that run a query (or write) instead of describing one.
_FORBIDDEN: dict[str, tuple[str, ...]] = {
    "pyspark.sql.classic.dataframe:DataFrame": (
        "collect",
        "count",
        "toPandas",
        "take",
        "first",
        "head",
        "show",
        "tail",
        "foreach",
        "foreachPartition",
        "toLocalIterator",
        "toArrow",
        "checkpoint",
        "localCheckpoint",
        "isEmpty",
    ),
    "pyspark.sql.readwriter:DataFrameWriter": (
        "save",
        "saveAsTable",
        "insertInto",
        "parquet",
        "json",
        "csv",
        "orc",
        "text",
        "jdbc",
    ),
    "pyspark.sql.readwriter:DataFrameWriterV2": (
        "create",
        "replace",
        "createOrReplace",
        "append",
        "overwrite",
        "overwritePartitions",
    ),
    "pyspark.sql.streaming.readwriter:DataStreamWriter": ("start", "toTable", "foreachBatch"),
}


@contextmanager
def forbid_actions(dataset: str) -> Iterator[None]:
    """While a query function runs, any action is a graph error naming the line."""
    import importlib

    patched: list[tuple[type, str, Any]] = []

    def refuse(method: str) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            raise GraphError(
                f"the query function of '{dataset}' calls {method}(): query functions must "
                "return a DataFrame and never collect, count or write data",
                user_code_location(),
            )

        return refused

    for target, methods in _FORBIDDEN.items():
        module_name, class_name = target.split(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        for method in methods:
            if hasattr(cls, method):
                patched.append((cls, method, cls.__dict__.get(method)))
                setattr(cls, method, refuse(method))
    try:
        yield
    finally:
        for cls, method, original in reversed(patched):
            if original is None:
                delattr(cls, method)
            else:
                setattr(cls, method, original)


def _user_frame_in(error: BaseException, flow: Flow) -> SourceLocation | None:
    """The last line of the flow's own source file in the error's traceback."""
    file = flow.location.file
    lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == file]
    return SourceLocation(file, lines[-1]) if lines and lines[-1] else None


_CHANGE_FEED_COLUMNS = (
    StructField("_change_type", StringType()),
    StructField("_commit_version", LongType()),
    StructField("_commit_timestamp", TimestampType()),
)


def _as_read(schema: StructType, options: Mapping[str, str] | None) -> StructType:
    """A table's schema as a read with ``options`` returns it: a change data feed read
    (``readChangeFeed``) adds the change type, commit version and commit timestamp."""
    lowered = {k.lower(): str(v).lower() for k, v in (options or {}).items()}
    if lowered.get("readchangefeed") != "true":
        return schema
    return StructType([*schema.fields, *_CHANGE_FEED_COLUMNS])


class GraphAnalyzer:
    """Resolves every flow of a graph, depth first, detecting cycles on the way."""

    def __init__(
        self,
        spark: SparkSession,
        graph: PipelineGraph,
        catalog: LocalCatalog,
        default: tuple[str, str],
        scratch: Path,
        auto_loader_state: Callable[[Flow], Path] | None = None,
        catalog_reader: CatalogReader | None = None,
    ) -> None:
        self.spark = spark
        # Where a flow's Auto Loader keeps its schema: the update's own place for it.
        self.auto_loader_state = auto_loader_state or (lambda f: scratch / "auto_loader" / f.name)
        self.flows_running: list[Flow] = []
        self.graph = graph
        self.catalog = catalog
        self.default = default
        self.scratch = scratch
        self.analyzed: dict[str, AnalyzedDataset] = {}
        self.flow_streaming: dict[str, bool] = {}
        self.auto_cdc: dict[str, ResolvedAutoCdc] = {}
        self.view_frames: dict[str, DataFrame] = {}
        self.stack: list[str] = []
        self.reads: list[set[str]] = []
        self.inputs: list[set[str]] = []  # beside reads: direct inputs only
        self.flow_inputs: dict[str, tuple[str, ...]] = {}
        # The catalog as it is, for what the graph cannot stand in for with empty frames.
        self.catalog_reader = catalog_reader or CatalogReader(spark, catalog, default)

    def analyze(self) -> AnalyzedGraph:
        self._check_flow_targets()
        for dataset in self.graph.datasets:
            self._dataset(dataset.name, None)
        return AnalyzedGraph(
            self.graph,
            dict(self.analyzed),
            dict(self.flow_streaming),
            dict(self.auto_cdc),
            dict(self.flow_inputs),
        )

    def _check_flow_targets(self) -> None:
        for flow in self.graph.flows:
            target = self.graph.dataset(flow.target)
            if target is None:
                raise GraphError(
                    f"flow '{flow.name}' writes to '{flow.target}', which this pipeline does "
                    "not define (declare it with create_streaming_table)",
                    flow.location,
                )
            if target.is_sink and (flow.auto_cdc is not None or flow.once):
                raise GraphError(
                    f"flow '{flow.name}' into sink '{target.name}': sinks take streaming "
                    "append flows only (no AUTO CDC, no once=True)",
                    flow.location,
                )
            if flow.name != target.name and target.kind in (
                DatasetKind.VIEW,
                DatasetKind.MATERIALIZED_VIEW,
            ):
                raise GraphError(
                    f"append_flow '{flow.name}' targets {target.kind.value} '{target.name}': "
                    "flows can only append to streaming tables",
                    flow.location,
                )

    # -- resolution -----------------------------------------------------------------------

    def _dataset(self, name: str, read_at: SourceLocation | None) -> AnalyzedDataset:
        if name in self.analyzed:
            return self.analyzed[name]
        dataset = self.graph.dataset(name)
        assert dataset is not None
        if name in self.stack:
            cycle = [*self.stack[self.stack.index(name) :], name]
            raise GraphError(
                "the pipeline has a cycle: " + " -> ".join(cycle), read_at or dataset.location
            )
        self.stack.append(name)
        try:
            frames: list[DataFrame] = []
            upstream: set[str] = set()
            for flow in self.graph.flows_into(name):
                frame, reads = self._flow(flow, dataset)
                frames.append(frame)
                upstream |= reads
            self._check_auto_cdc_flows(dataset)
            for frame in frames:
                self._check_expectations(dataset, frame)
            analyzed = AnalyzedDataset(
                dataset,
                self._kind(dataset, frames),
                self._schema(dataset, frames),
                tuple(sorted(upstream)),
            )
        finally:
            self.stack.pop()
        self.analyzed[name] = analyzed
        return analyzed

    def _flow(self, flow: Flow, dataset: Dataset) -> tuple[DataFrame, set[str]]:
        self.reads.append(set())
        self.inputs.append(set())
        self.flows_running.append(flow)
        try:
            if flow.snapshot is not None and flow.snapshot.function is not None:
                # A snapshot function finds the next snapshot in stored data (it may collect),
                # so it runs over the catalog as it is, not over the graph's empty frames.
                with reading_with(self.catalog_reader):
                    frame = flow.query()
            else:
                with reading_with(self), forbid_actions(dataset.name):
                    frame = flow.query()
        except PipelineError:
            raise
        except Exception as error:  # e.g. Spark cannot resolve a column the query names
            raise GraphError(
                f"the query function of '{flow.name}' failed: {exception_line(error)}",
                _user_frame_in(error, flow) or flow.location,
            ) from error
        finally:
            reads = self.reads.pop()
            self.flow_inputs[flow.name] = tuple(sorted(self.inputs.pop()))
            self.flows_running.pop()
        if not isinstance(frame, DataFrame):
            raise GraphError(
                f"the query function of '{flow.name}' returned {type(frame).__name__}, "
                "expected a DataFrame",
                flow.location,
            )
        self.flow_streaming[flow.name] = frame.isStreaming
        if flow.auto_cdc is not None:
            self._resolve_auto_cdc(flow, dataset, frame)
        elif (
            flow.name == dataset.name
            and dataset.kind is DatasetKind.STREAMING_TABLE
            and not frame.isStreaming
        ):
            raise GraphError(
                f"streaming table '{dataset.name}' has a batch query: read its sources as "
                "streams (STREAM(table), STREAM read_files(...), spark.readStream)",
                flow.location,
            )
        elif flow.name != dataset.name and not frame.isStreaming and not flow.once:
            into = (
                "a sink must stream (spark.readStream)"
                if dataset.is_sink
                else (
                    "a streaming table must stream (spark.readStream), or be declared with once=True"
                )
            )
            raise GraphError(
                f"append_flow '{flow.name}' returns a batch query: flows into {into}",
                flow.location,
            )
        if dataset.is_published_view:
            self._check_published_view(dataset, frame, reads, flow.location)
        if dataset.is_view:
            self.view_frames[dataset.name] = frame
        return frame, reads

    def _check_published_view(
        self, dataset: Dataset, frame: DataFrame, reads: set[str], location: SourceLocation
    ) -> None:
        """A view in the catalog is read outside the pipeline: by batch, and only from what
        the catalog holds too."""
        if frame.isStreaming:
            raise GraphError(
                f"view '{dataset.name}' has a streaming query: a view published with CREATE "
                "VIEW is read as a batch; use CREATE TEMPORARY VIEW to stream inside the pipeline",
                location,
            )
        hidden = sorted(k for k in reads if (d := self.graph.dataset(k)) and d.private)
        if hidden:
            raise GraphError(
                f"view '{dataset.name}' reads {', '.join(hidden)}, which only this pipeline "
                "sees: a view published with CREATE VIEW reads tables of the catalog",
                location,
            )
        if self.catalog.exists(self._table_name(dataset.name)):
            raise GraphError(
                f"view '{dataset.name}': a table {self._table_name(dataset.name)} already exists",
                location,
            )

    def _resolve_auto_cdc(self, flow: Flow, dataset: Dataset, frame: DataFrame) -> None:
        assert flow.auto_cdc is not None
        if dataset.kind is not DatasetKind.STREAMING_TABLE:
            raise GraphError(
                f"AUTO CDC flow '{flow.name}' targets '{dataset.name}', which is not a "
                "streaming table: declare the target with create_streaming_table",
                flow.location,
            )
        if not frame.isStreaming and not flow.once and flow.snapshot is None:
            raise GraphError(
                f"AUTO CDC flow '{flow.name}' reads '{flow.auto_cdc.source}' as a batch: its "
                "source must stream, or the flow be declared with once=True",
                flow.location,
            )
        try:
            self.auto_cdc[flow.name] = resolve_auto_cdc(
                flow.auto_cdc, flow.name, dataset.name, frame
            )
        except GraphError as error:
            raise GraphError(str(error), flow.location) from None

    def _check_auto_cdc_flows(self, dataset: Dataset) -> None:
        flows = self.graph.flows_into(dataset.name)
        resolved = [self.auto_cdc[f.name] for f in flows if f.name in self.auto_cdc]
        if not resolved:
            return
        if len(resolved) < len(flows):
            raise GraphError(
                f"'{dataset.name}' is the target of AUTO CDC and of other flows: a table "
                "written by AUTO CDC takes only AUTO CDC flows",
                dataset.location,
            )
        first = resolved[0]
        for other in resolved[1:]:
            if (other.keys, other.scd_type) != (first.keys, first.scd_type):
                raise GraphError(
                    f"AUTO CDC flows '{first.flow}' and '{other.flow}' into '{dataset.name}' "
                    "disagree on keys or SCD type",
                    dataset.location,
                )

    def _check_expectations(self, dataset: Dataset, frame: DataFrame) -> None:
        for expectation in dataset.expectations:
            try:
                frame.select(violated(expectation))
            except AnalysisException as error:
                raise GraphError(
                    f"expectation '{expectation.name}' on '{dataset.name}' has a constraint "
                    f"that does not fit the data: {str(error).strip().splitlines()[0]}",
                    dataset.location,
                ) from error

    def _kind(self, dataset: Dataset, frames: list[DataFrame]) -> DatasetKind:
        streaming = any(f.isStreaming for f in frames)
        if dataset.kind is DatasetKind.TABLE:
            return DatasetKind.STREAMING_TABLE if streaming else DatasetKind.MATERIALIZED_VIEW
        if dataset.kind is DatasetKind.MATERIALIZED_VIEW and streaming:
            raise GraphError(
                f"materialized view '{dataset.name}' has a streaming query: use @table for a "
                "streaming table, or read with spark.read",
                dataset.location,
            )
        return dataset.kind

    def _schema(self, dataset: Dataset, frames: list[DataFrame]) -> StructType:
        if dataset.schema is not None:
            if isinstance(dataset.schema, StructType):
                return dataset.schema
            try:
                return parse_table_schema(dataset.schema)
            except Exception as error:
                raise GraphError(
                    f"the schema of '{dataset.name}' is not valid DDL: "
                    f"{str(error).strip().splitlines()[0]}",
                    dataset.location,
                ) from error
        cdc = [
            self.auto_cdc[f.name]
            for f in self.graph.flows_into(dataset.name)
            if f.name in self.auto_cdc
        ]
        if cdc:
            return cdc[0].target_schema()
        if frames:
            return frames[0].schema
        if self.catalog.exists(self._table_name(dataset.name)):
            return (
                self.spark.read.format("delta")
                .load(str(self.catalog.table_path(self._table_name(dataset.name))))
                .schema
            )
        raise GraphError(
            f"streaming table '{dataset.name}' has no flow writing to it and no schema",
            dataset.location,
        )

    def _table_name(self, key: str) -> TableName:
        return TableName.parse(key, *self.default)

    # -- the DatasetReader protocol ---------------------------------------------------------

    def read(
        self,
        name: str,
        *,
        streaming: bool,
        location: SourceLocation | None,
        options: Mapping[str, str] | None = None,
    ) -> DataFrame:
        key = resolve_dataset_name(self.graph, name, self.default)
        if key is None:
            return self._external(name, streaming, location, options)
        self.reads[-1].add(key)
        self.inputs[-1].add(key)
        analyzed = self._dataset(key, location)
        self.reads[-1].update(analyzed.upstream if analyzed.kind is DatasetKind.VIEW else ())
        if analyzed.kind is DatasetKind.VIEW:
            frame = self.view_frames[key]
            if streaming and not frame.isStreaming:
                raise GraphError(f"streaming read of view '{key}', whose query is batch", location)
            return frame
        if streaming and analyzed.kind is DatasetKind.MATERIALIZED_VIEW:
            raise GraphError(
                f"streaming read of materialized view '{key}': a materialized view is "
                "recomputed, not appended to, so it cannot be a streaming source",
                location,
            )
        return self._empty(_as_read(analyzed.schema, options), streaming)

    def auto_loader(
        self,
        path: str,
        options: Mapping[str, str],
        schema: StructType | None,
        location: SourceLocation | None,
    ) -> DataFrame:
        default_location = self.auto_loader_state(self.flows_running[-1])
        return auto_loader_stream(
            self.spark, path, options, schema, default_location, check_new_columns=True
        )

    def _external(
        self,
        name: str,
        streaming: bool,
        location: SourceLocation | None,
        options: Mapping[str, str] | None,
    ) -> DataFrame:
        table = TableName.parse(name, *self.default)
        self.catalog_reader.check_readable(table, location)
        if self.inputs:
            self.inputs[-1].add(str(table))
        if self.catalog.view(table) is not None:
            view = self.catalog_reader.read(name, streaming=streaming, location=location)
            schema = view.schema
            return self._empty(schema, streaming=False)
        if not self.catalog.exists(table):
            raise GraphError(
                f"unknown dataset '{name.replace('`', '')}': it is not defined in this pipeline "
                f"and no table {table} exists",
                location,
            )
        path = str(self.catalog.table_path(table))
        schema = self.spark.read.format("delta").load(path).schema
        return self._empty(_as_read(schema, options), streaming)

    def _empty(self, schema: StructType, streaming: bool) -> DataFrame:
        if not streaming:
            return self.spark.createDataFrame([], schema)
        folder = self.scratch / "empty"
        folder.mkdir(parents=True, exist_ok=True)
        return self.spark.readStream.schema(schema).format("json").load(str(folder))

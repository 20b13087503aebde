"""What one flow reads while it runs: the pipeline's stored tables (noting their versions for
change detection), its views inlined with their expectations, the catalog's tables outside the
pipeline, and Auto Loader folders (remembering the ones whose files may change in place).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql.types import StructType

from lakehouse.engine.analysis.analyzer import AnalyzedGraph, resolve_dataset_name
from lakehouse.engine.errors import ConfigurationError
from lakehouse.engine.execution.pipeline_settings import PipelineSettings
from lakehouse.engine.graph.elements import DatasetKind, Flow, SourceLocation
from lakehouse.engine.quality.expectations import ExpectationCheck, apply_expectations
from lakehouse.engine.session import CatalogReader
from lakehouse.engine.sources.auto_loader import auto_loader_stream
from lakehouse.engine.sources.cloud_files_state import local_path
from lakehouse.engine.sources.overwritten_files import allows_overwrites
from lakehouse.engine.storage.driver_reads import read_delta

_observation_ids = itertools.count()


def observation_name(dataset: str) -> str:
    """A name for one query's observed metrics, unique in this process (Spark keys them by
    name)."""
    return f"{dataset}#{next(_observation_ids)}"


@dataclass(frozen=True)
class UpdateReads:
    """What a flow's reads resolve against in one update: the analyzed graph, where its
    tables are stored, and the catalog for the tables outside the pipeline."""

    spark: SparkSession
    analyzed: AnalyzedGraph
    settings: PipelineSettings
    catalog_reader: CatalogReader


class FlowReader:
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
            check = ExpectationCheck(observation_name(key), key, dataset.dataset.expectations)
            observer = None
            if check.expectations:
                self.view_checks.append(check)
                if not self.streaming:
                    observer = self.observations[check.observation] = Observation(check.observation)
            return apply_expectations(frame, check, observer)
        table = reads.settings.table(dataset)
        # The version before the read: a commit landing meanwhile makes the next check rerun.
        self.sources.append((table.path, table.version()))
        return read_delta(
            reads.spark,
            table,
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

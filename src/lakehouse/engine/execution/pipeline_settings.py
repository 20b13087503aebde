"""Where a pipeline's state lives under the storage folder, what it publishes into, and the
engine settings its configuration gives (``settings.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pyspark.sql import SparkSession

from lakehouse.engine.analysis.analyzer import AnalyzedDataset
from lakehouse.engine.graph.elements import Flow
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.session import CatalogReader
from lakehouse.engine.settings import EngineSettings
from lakehouse.engine.sources.cloud_files_state import local_path
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.engine.storage.delta_table import LocalDeltaTable


@dataclass(frozen=True)
class PipelineSettings:
    """Where a pipeline's state lives and what it publishes into."""

    name: str
    storage: Path
    catalog: str = "main"
    schema: str = "default"
    configuration: Mapping[str, str] = field(default_factory=dict)
    event_log: TableName | None = None  # the pipeline's event_log setting; else <schema>.event_log

    @property
    def default(self) -> tuple[str, str]:
        return (self.catalog, self.schema)

    @property
    def state_dir(self) -> Path:
        return self.storage / "pipelines" / self.name

    @property
    def local_catalog(self) -> LocalCatalog:
        return LocalCatalog(self.storage)

    def table_path(self, dataset: AnalyzedDataset) -> Path:
        sink = dataset.dataset.sink
        if sink is not None:  # a Delta sink: its path, or its table in the catalog
            options = {k.lower(): v for k, v in sink.options.items()}
            if "path" in options:
                return local_path(options["path"])
            return self.local_catalog.table_path(
                TableName.parse(options["tablename"], *self.default)
            )
        if dataset.dataset.private:
            return self.state_dir / "private" / dataset.name
        return self.local_catalog.table_path(TableName.parse(dataset.name, *self.default))

    def table(self, dataset: AnalyzedDataset) -> LocalDeltaTable:
        return LocalDeltaTable(self.table_path(dataset))

    def checkpoint(self, flow: Flow) -> Path:
        return self.state_dir / "checkpoints" / flow.target / flow.name

    def auto_loader_state(self, flow: Flow) -> Path:
        return self.state_dir / "auto_loader" / flow.name

    def auto_cdc_state(self, target: str) -> Path:
        return self.state_dir / "auto_cdc" / target

    def event_log_path(self) -> Path:
        table = self.event_log or TableName(self.catalog, self.schema, "event_log")
        return self.local_catalog.table_path(table)

    @cached_property
    def engine(self) -> EngineSettings:
        """The engine's settings from ``configuration`` and the environment, parsed once."""
        return EngineSettings.of(self.configuration)

    def catalog_reader(self, spark: SparkSession) -> CatalogReader:
        """Reads of the local catalog's tables; small ones in the driver (``driver_reads.py``)."""
        return CatalogReader(
            spark,
            self.local_catalog,
            self.default,
            self.engine.driver_read_max_rows,
            self.engine.env,
        )

"""Run a pipeline and query its tables: the engine's Python API.

Example:
    >>> from lakehouse.engine import run_pipeline, sql
    >>> result = run_pipeline(["domains/sales/pipelines"], storage=".lakehouse",
    ...                       catalog="dev_gold", schema="sales")  # doctest: +SKIP
    >>> sql(".lakehouse", "SELECT * FROM dev_gold.sales.daily_revenue").show()  # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from lakehouse.engine.analysis.analyzer import AnalyzedGraph, GraphAnalyzer, resolve_dataset_name
from lakehouse.engine.analysis.table_schema import column_masks
from lakehouse.engine.errors import ConfigurationError
from lakehouse.engine.execution.flow_runner import FlowResult, ProgressCallback
from lakehouse.engine.execution.pipeline_settings import PipelineSettings
from lakehouse.engine.execution.scheduler import PipelineUpdate
from lakehouse.engine.graph.elements import Dataset, Flow
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.graph.registry import GraphRegistry
from lakehouse.engine.loader import load_pipeline, pipeline_api_modules, pipeline_files
from lakehouse.engine.local_spark import get_spark
from lakehouse.engine.observability.event_hooks import EventHooks
from lakehouse.engine.observability.event_log import EventLog
from lakehouse.engine.session import (
    CatalogReader,
    PipelineSparkSession,
    reading_with,
    sql_over_tables,
)
from lakehouse.engine.sql_files.published_views import view_definition
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.engine.storage.table_metadata import metadata_statement


@dataclass(frozen=True)
class UpdateResult:
    """The outcome of one successful update."""

    update_id: str
    pipeline: str
    flows: list[FlowResult]
    datasets: dict[str, str]  # dataset name -> kind
    seconds: float
    warnings: list[str] = field(default_factory=list)  # the update's WARN events

    def rows_written(self, dataset: str) -> int:
        """Rows the update wrote into ``dataset`` (short or qualified name)."""
        return sum(f.num_output_rows for f in self.flows if _same_table(f.dataset, dataset))

    def expectation(self, dataset: str, name: str) -> dict[str, object]:
        """The ``{name, dataset, passed_records, failed_records}`` entry of one expectation."""
        for flow in self.flows:
            for entry in flow.expectations:
                if entry["name"] == name and _same_table(str(entry["dataset"]), dataset):
                    return entry
        raise KeyError(f"no expectation '{name}' on dataset '{dataset}'")


def _same_table(qualified: str, name: str) -> bool:
    """'main.sales.orders' is 'orders', 'sales.orders' and itself."""
    return qualified == name or qualified.endswith("." + name.lower())


def run_pipeline(
    paths: Sequence[str | Path],
    *,
    storage: str | Path,
    name: str | None = None,
    catalog: str = "main",
    schema: str = "default",
    configuration: Mapping[str, str] | None = None,
    full_refresh: bool = False,
    refresh: Sequence[str] = (),
    spark: SparkSession | None = None,
    on_progress: ProgressCallback | None = None,
    continuous: bool = False,
    run_for: float | None = None,
    stop: threading.Event | None = None,
    event_log: str | None = None,
) -> UpdateResult:
    """Run one update of the pipeline made of ``paths``.

    Triggered (the default): streaming tables take only what is new since the last update;
    materialized views are recomputed. ``full_refresh`` rebuilds every table from scratch;
    ``refresh`` rebuilds only the named tables and leaves the others as they are.

    ``continuous``: streaming flows keep running and materialized views are recomputed as
    their inputs change, for ``run_for`` seconds, until ``stop`` is set, or until Ctrl-C.

    ``event_log`` names the event log table (``[catalog.][schema.]name``, as the pipeline's
    ``event_log`` setting does); by default it is ``event_log`` in the target schema.

    Example:
        >>> run_pipeline(["pipelines/"], storage="/tmp/lh", schema="sales",
        ...              configuration={"source": "/data/in"})  # doctest: +SKIP
        >>> run_pipeline(["pipelines/"], storage="/tmp/lh", continuous=True,
        ...              run_for=300)  # doctest: +SKIP
    """
    started = time.perf_counter()
    if full_refresh and refresh:
        raise ConfigurationError("choose either a full refresh or a refresh of named tables")
    spark = spark or get_spark()
    files = pipeline_files(paths)
    settings = PipelineSettings(
        name=name or _default_name(paths),
        storage=Path(storage).resolve(),
        catalog=catalog.lower(),
        schema=schema.lower(),
        configuration=dict(configuration or {}),
        event_log=TableName.parse(event_log, catalog.lower(), schema.lower())
        if event_log
        else None,
    )
    log = EventLog(settings.name, settings.event_log_path())
    log.emit(
        "create_update",
        f"Update {log.update_id[:8]} started.",
        {"cause": "USER_ACTION", "full_refresh": full_refresh, "refresh_selection": list(refresh)},
    )
    try:
        with pipeline_api_modules():
            analyzed = _analyze(spark, files, settings, log)
            selection = _refresh_selection(analyzed, settings, refresh)
            log.update_progress("RUNNING")
            log.flush()
            update = PipelineUpdate(
                spark,
                settings,
                analyzed,
                log,
                full_refresh=full_refresh,
                full_refresh_selection=selection,
                on_progress=on_progress,
            )
            flows = update.run_continuously(run_for, stop=stop) if continuous else update.run()
        log.update_progress("COMPLETED")
    except KeyboardInterrupt:
        log.update_progress("CANCELED")
        raise
    except BaseException as error:
        log.update_progress("FAILED", error=str(error))
        raise
    finally:
        log.flush()
    return UpdateResult(
        log.update_id,
        settings.name,
        flows,
        {name: d.kind.value for name, d in analyzed.datasets.items()},
        time.perf_counter() - started,
        list(log.warnings),
    )


def _analyze(
    spark: SparkSession, files: list[Path], settings: PipelineSettings, event_log: EventLog
) -> AnalyzedGraph:
    event_log.update_progress("INITIALIZING")
    session = PipelineSparkSession(spark, settings.configuration)
    registry = GraphRegistry(settings.catalog, settings.schema)
    with reading_with(settings.catalog_reader(spark)):
        graph = load_pipeline(files, registry, session)
    if registry.hooks:
        event_log.attach_hooks(EventHooks(registry.hooks))
    event_log.update_progress("SETTING_UP_TABLES")
    analyzed = GraphAnalyzer(
        spark,
        graph,
        settings.local_catalog,
        settings.default,
        settings.state_dir / "scratch",
        settings.auto_loader_state,
        settings.catalog_reader(spark),
    ).analyze()
    for dataset in analyzed.datasets.values():
        unapplied = _not_applied(dataset.dataset)
        event_log.emit(
            "dataset_definition",
            f"Dataset '{dataset.name}' is a {dataset.kind.value}."
            + (f" Not applied locally: {'; '.join(unapplied)}." if unapplied else ""),
            {
                "dataset_type": dataset.kind.value,
                "schema": dataset.schema.jsonValue(),
                "upstream": list(dataset.upstream),
                "expectations": [e.name for e in dataset.dataset.expectations],
                "not_applied_locally": unapplied,
            },
            dataset=dataset.name,
            level="WARN" if unapplied else "INFO",
        )
    for flow in analyzed.graph.flows:
        inputs = analyzed.flow_inputs.get(flow.name, ())
        event_log.emit(
            "flow_definition",
            f"Flow '{flow.name}' writes '{flow.target}'"
            + (f" from {', '.join(repr(i) for i in inputs)}." if inputs else "."),
            {
                "output_dataset": flow.target,
                "input_datasets": list(inputs),
                "flow_type": _flow_type(flow, analyzed),
                "once": flow.once,
            },
            flow=flow.name,
            dataset=flow.target,
        )
    _publish_views(analyzed, settings)
    return analyzed


def _flow_type(flow: Flow, analyzed: AnalyzedGraph) -> str:
    """As Databricks' event log names them: CHANGE (AUTO CDC), APPEND (streaming) or
    COMPLETE (recomputed)."""
    if flow.auto_cdc is not None or flow.snapshot is not None:
        return "CHANGE"
    return "APPEND" if analyzed.flow_streaming.get(flow.name) else "COMPLETE"


def _publish_views(analyzed: AnalyzedGraph, settings: PipelineSettings) -> None:
    """Each ``CREATE VIEW`` into the catalog, where ``lakehouse sql`` and other pipelines
    read it."""
    for key, dataset in analyzed.datasets.items():
        if dataset.dataset.is_published_view:
            (flow,) = analyzed.graph.flows_into(key)
            settings.local_catalog.create_view(
                TableName.parse(key, *settings.default),
                view_definition(dataset.dataset, flow, settings.default),
            )


def _refresh_selection(
    analyzed: AnalyzedGraph, settings: PipelineSettings, refresh: Sequence[str]
) -> tuple[str, ...]:
    selected = []
    for name in refresh:
        key = resolve_dataset_name(analyzed.graph, name, settings.default)
        if key is None or analyzed.datasets[key].kind.value in ("view", "sink"):
            tables = ", ".join(d.name for d in analyzed.tables() if not d.dataset.is_sink)
            raise ConfigurationError(
                f"--refresh: '{name}' is not a table of this pipeline ({tables})"
            )
        selected.append(key)
    return tuple(selected)


def _not_applied(dataset: Dataset) -> list[str]:
    """What ``dataset`` declares that a local run does not apply: Unity Catalog's access
    policies (one user, no Unity Catalog here), where and how Databricks stores the table."""
    policies = list(dataset.not_applied)
    if isinstance(dataset.schema, str):
        policies += [f"{mask} on {column}" for column, mask in column_masks(dataset.schema).items()]
    return policies


def _default_name(paths: Sequence[str | Path]) -> str:
    first = Path(paths[0]).resolve()
    return first.stem if first.is_file() else first.name


def sql(
    storage: str | Path,
    query: str,
    *,
    catalog: str = "main",
    schema: str = "default",
    spark: SparkSession | None = None,
) -> DataFrame:
    """Query the tables under ``storage`` with Spark SQL; names resolve like in pipelines.
    ``DESCRIBE [EXTENDED | HISTORY | DETAIL]``, ``SHOW TBLPROPERTIES`` and ``SHOW CREATE
    TABLE`` tell what a table is.

    Example:
        >>> sql(".lakehouse", "SELECT count(*) FROM main.sales.orders").collect()  # doctest: +SKIP
        >>> sql(".lakehouse", "SHOW TBLPROPERTIES main.sales.orders").collect()  # doctest: +SKIP
    """
    spark = spark or get_spark()
    local = LocalCatalog(Path(storage).resolve())
    reader = CatalogReader(spark, local, (catalog, schema))

    def view_schema(name: TableName) -> StructType:
        return reader.read(str(name), streaming=False, location=None).schema

    described = metadata_statement(spark, local, (catalog, schema), query, view_schema)
    if described is not None:
        return described
    return sql_over_tables(
        spark, query, lambda name, streaming: reader.read(name, streaming=streaming, location=None)
    )

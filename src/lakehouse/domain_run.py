"""Running a domain locally, as its scheduled job does on Databricks: the generated ingestion
pipeline of each of its source systems (landing -> bronze -> silver), then its own gold
pipeline (silver -> gold), each continuing from its last update."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from lakehouse.engine import UpdateResult, run_pipeline
from lakehouse.ingestion.pipeline_spec import ingestion_pipeline
from lakehouse.platform.domains import Domain
from lakehouse.platform.pipelines import PipelineSpec, domain_pipelines

ProgressCallback = Callable[[str, str, Any], None]  # the engine's: (flow, status, FlowResult)


@dataclass(frozen=True)
class DomainRun:
    """One update of each of a domain's pipelines: ingestion per source system, then the
    domain's own (gold)."""

    domain: Domain
    env: str
    ingestion: dict[str, UpdateResult]  # source system -> update
    pipelines: dict[str, UpdateResult]  # the domain's own pipelines, by name
    seconds: float


def run_spec(
    spec: PipelineSpec,
    *,
    storage: Path,
    full_refresh: bool = False,
    spark: SparkSession | None = None,
    on_progress: ProgressCallback | None = None,
) -> UpdateResult:
    """One triggered update of the pipeline ``spec`` describes, as Databricks would run it.

    Example:
        >>> (gold,) = domain_pipelines(Domain(Path("domains/sales")), "dev")
        >>> run_spec(gold, storage=Path(".lakehouse")).rows_written("revenue_by_day")  # doctest: +SKIP
        12
    """
    return run_pipeline(
        list(spec.sources),
        storage=storage,
        name=spec.name,
        catalog=spec.catalog,
        schema=spec.schema,
        configuration=spec.configuration,
        full_refresh=full_refresh,
        spark=spark,
        on_progress=on_progress,
    )


def run_domain(
    domain: Domain,
    *,
    storage: Path,
    landing: Path,
    env: str = "dev",
    full_refresh: bool = False,
    spark: SparkSession | None = None,
    on_progress: ProgressCallback | None = None,
) -> DomainRun:
    """Run the ingestion pipeline of each of the domain's source systems, then its gold
    pipeline, as the scheduled job on Databricks does: each continues from the last update.

    Example:
        >>> run_domain(Domain(Path("domains/sales")), storage=Path(".lakehouse"),
        ...            landing=Path(".lakehouse/landing"))  # doctest: +SKIP
    """
    started = time.perf_counter()

    def run(spec: PipelineSpec) -> UpdateResult:
        return run_spec(
            spec, storage=storage, full_refresh=full_refresh, spark=spark, on_progress=on_progress
        )

    contracts, where = str(domain.folder / "contracts"), str(landing)
    updates = {
        source_system: run(
            ingestion_pipeline(domain, source_system, env, contracts=contracts, landing=where)
        )
        for source_system in domain.source_systems
    }
    # The domain's own pipelines as its bundle YAML declares them (its gold pipeline).
    own = {spec.name: run(spec) for spec in domain_pipelines(domain, env)}
    return DomainRun(domain, env, updates, own, time.perf_counter() - started)

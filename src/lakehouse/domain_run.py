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

from lakehouse.domains import Domain
from lakehouse.engine import UpdateResult, run_pipeline
from lakehouse.ingestion import settings as ingestion

INGESTION_PIPELINE = (
    Path(__file__).resolve().parent / "ingestion" / "pipelines" / "source_system.py"
)

ProgressCallback = Callable[[str, str, Any], None]  # the engine's: (flow, status, FlowResult)


@dataclass(frozen=True)
class DomainRun:
    """One update of each of a domain's pipelines: ingestion per source system, then gold."""

    domain: Domain
    env: str
    ingestion: dict[str, UpdateResult]  # source system -> update
    gold: UpdateResult | None
    seconds: float


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
    updates = {}
    for source_system in domain.source_systems:
        updates[source_system] = run_pipeline(
            [INGESTION_PIPELINE],
            storage=storage,
            name=f"{source_system}_ingestion",
            catalog=f"{env}_bronze",
            schema=source_system,
            configuration={
                ingestion.SOURCE_SYSTEM: source_system,
                ingestion.CONTRACTS: str(domain.folder / "contracts"),
                ingestion.LANDING: str(landing),
                ingestion.ENV: env,
            },
            full_refresh=full_refresh,
            spark=spark,
            on_progress=on_progress,
        )
    gold = None
    if domain.pipelines.is_dir():
        gold = run_pipeline(
            [domain.pipelines],
            storage=storage,
            name=f"{domain.name}_gold",
            catalog=f"{env}_gold",
            schema=domain.name,
            configuration={ingestion.ENV: env},
            full_refresh=full_refresh,
            spark=spark,
            on_progress=on_progress,
        )
    return DomainRun(domain, env, updates, gold, time.perf_counter() - started)

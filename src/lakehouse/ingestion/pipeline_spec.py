"""A source system's ingestion pipeline as both runtimes run it: the bundle deploys it
(``bundle/resources.py``) and local runs run it (``domain_run.py``) from this one description;
only where the contracts and the landing folder are differs."""

from __future__ import annotations

from pathlib import Path

from lakehouse.ingestion.settings import CONTRACTS, ENV, LANDING, SCHEMA_PREFIX, SOURCE_SYSTEM
from lakehouse.platform.domains import Domain
from lakehouse.platform.pipelines import PipelineSpec

SOURCE_FILE = Path(__file__).resolve().parent / "transformations" / "source_system.py"
# The same file as the bundle uploads it: relative to the bundle root, under src/.
BUNDLE_SOURCE_FILE = (
    f"src/{SOURCE_FILE.relative_to(Path(__file__).resolve().parents[2]).as_posix()}"
)


def ingestion_pipeline(
    domain: Domain,
    source_system: str,
    env: str,
    *,
    contracts: str,
    landing: str,
    schema_prefix: str = "",
) -> PipelineSpec:
    """The pipeline that ingests ``source_system`` of ``domain`` into ``<env>_bronze`` and
    ``<env>_silver``: continuous in test and prod when one of its contracts is near-real-time,
    triggered by the domain's refresh job otherwise.

    Example:
        >>> spec = ingestion_pipeline(Domain(Path("domains/sales")), "crm", "dev",
        ...     contracts="domains/sales/contracts", landing=".lakehouse/landing")  # doctest: +SKIP
        >>> spec.name, spec.target  # doctest: +SKIP
        ('crm_ingestion', 'dev_bronze.crm')
    """
    near_real_time = any(
        c.ingestion_mode == "near-real-time"
        for c in domain.contracts
        if c.source_system == source_system
    )
    return PipelineSpec(
        name=f"{source_system}_ingestion",
        catalog=f"{env}_bronze",
        schema=f"{schema_prefix}{source_system}",
        sources=(SOURCE_FILE,),
        configuration={
            SOURCE_SYSTEM: source_system,
            CONTRACTS: contracts,
            LANDING: landing,
            ENV: env,
            SCHEMA_PREFIX: schema_prefix,
        },
        continuous=near_real_time and env != "dev",
    )

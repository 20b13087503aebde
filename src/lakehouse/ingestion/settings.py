"""What a generated ingestion pipeline reads from its configuration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakehouse.contracts import DataContract, find_contracts, load_contract
from lakehouse.contracts.model import Classification
from lakehouse.engine.errors import ConfigurationError
from lakehouse.engine.settings import ENV

SOURCE_SYSTEM = "lakehouse.sourceSystem"
CONTRACTS = "lakehouse.contracts"
LANDING = "lakehouse.landing"
# Put before each schema name: a developer's own schemas in a development deployment.
SCHEMA_PREFIX = "lakehouse.schemaPrefix"


@dataclass(frozen=True)
class IngestionSettings:
    """One source system's ingestion: its contracts, where its files land, which environment.

    Example:
        >>> settings = IngestionSettings.from_conf(spark.conf)  # doctest: +SKIP
        >>> settings.bronze_table(contract)  # doctest: +SKIP
        'dev_bronze.crm.customers'
    """

    source_system: str
    contracts: tuple[DataContract, ...]
    landing: str
    env: str = "dev"
    schema_prefix: str = ""

    @classmethod
    def from_conf(cls, conf: Any) -> IngestionSettings:
        """Read from a pipeline's configuration (``spark.conf``); a missing key is a
        ``ConfigurationError`` naming it. ``lakehouse.contracts`` is a comma-separated list of
        contract files or folders."""

        def required(key: str, expected: str) -> str:
            value = conf.get(key, None)
            if not value:
                raise ConfigurationError(f"pipeline configuration '{key}' is missing: {expected}")
            return value

        source_system = required(SOURCE_SYSTEM, "the source system to ingest, such as crm")
        paths = [
            Path(p.strip()) for p in required(CONTRACTS, "contract files or folders").split(",")
        ]
        contracts = tuple(
            c for c in map(load_contract, find_contracts(paths)) if c.source_system == source_system
        )
        if not contracts:
            raise ConfigurationError(
                f"pipeline configuration '{CONTRACTS}': no contract of source system "
                f"'{source_system}' under {', '.join(map(str, paths))}"
            )
        landing = required(LANDING, "the landing root, holding <source_system>/<dataset>/")
        return cls(
            source_system,
            contracts,
            landing,
            conf.get(ENV, None) or "dev",
            conf.get(SCHEMA_PREFIX, None) or "",
        )

    @property
    def highest_classification(self) -> Classification:
        """The highest classification of the source system's contracts and their columns:
        rescued data may hold any of the source's columns."""
        found = [c.classification for contract in self.contracts for c in (contract, *contract.columns)]  # fmt: skip
        return max(found, key=lambda c: c.rank)

    def landing_path(self, contract: DataContract) -> str:
        return f"{self.landing.rstrip('/')}/{contract.source_system}/{contract.dataset}"

    def bronze_table(self, contract: DataContract) -> str:
        return bronze_table(contract, self.env, self.schema_prefix)

    def silver_table(self, contract: DataContract) -> str:
        return silver_table(contract, self.env, self.schema_prefix)


def bronze_table(contract: DataContract, env: str, schema_prefix: str = "") -> str:
    """``<env>_bronze.<source_system>.<dataset>``: one schema per source system.

    Example:
        >>> bronze_table(contract, "dev")  # doctest: +SKIP
        'dev_bronze.crm.customers'
        >>> bronze_table(contract, "dev", "dev_jane_")  # doctest: +SKIP
        'dev_bronze.dev_jane_crm.customers'
    """
    return f"{env}_bronze.{schema_prefix}{contract.source_system}.{contract.dataset}"


def silver_table(contract: DataContract, env: str, schema_prefix: str = "") -> str:
    """``<env>_silver.<source_system>.<dataset>``; its quarantine table adds ``_quarantine``.

    Example:
        >>> silver_table(contract, "dev")  # doctest: +SKIP
        'dev_silver.crm.customers'
    """
    return f"{env}_silver.{schema_prefix}{contract.source_system}.{contract.dataset}"

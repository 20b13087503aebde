"""What a generated ingestion pipeline reads from its configuration, and the tables it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.engine.errors import ConfigurationError
from lakehouse.ingestion.settings import IngestionSettings

REPO = Path(__file__).resolve().parents[2]
CONF = {
    "lakehouse.sourceSystem": "crm",
    "lakehouse.contracts": str(REPO / "domains/sales/contracts"),
    "lakehouse.landing": "/Volumes/dev_landing",
}


class Conf(dict):
    """A pipeline configuration, read as ``spark.conf`` is: ``get(key, default)``."""


def test_tables_are_named_per_layer_environment_and_source_system():
    settings = IngestionSettings.from_conf(Conf({**CONF, "lakehouse.env": "prod"}))
    customers = next(c for c in settings.contracts if c.dataset == "customers")
    assert settings.bronze_table(customers) == "prod_bronze.crm.customers"
    assert settings.silver_table(customers) == "prod_silver.crm.customers"
    assert settings.landing_path(customers) == "/Volumes/dev_landing/crm/customers"


def test_a_development_deployment_writes_the_developers_own_schemas():
    settings = IngestionSettings.from_conf(Conf({**CONF, "lakehouse.schemaPrefix": "dev_jane_"}))
    orders = next(c for c in settings.contracts if c.dataset == "orders")
    assert settings.bronze_table(orders) == "dev_bronze.dev_jane_crm.orders"
    assert settings.silver_table(orders) == "dev_silver.dev_jane_crm.orders"


def test_a_missing_key_is_named():
    with pytest.raises(ConfigurationError, match=r"'lakehouse\.landing' is missing"):
        IngestionSettings.from_conf(Conf({k: v for k, v in CONF.items() if k != "lakehouse.landing"}))  # fmt: skip

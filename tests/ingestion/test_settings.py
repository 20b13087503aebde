"""What a generated ingestion pipeline reads from its configuration, and the tables it names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakehouse.contracts.model import Classification
from lakehouse.engine.errors import ConfigurationError
from lakehouse.governance.access import table_access
from lakehouse.ingestion.settings import IngestionSettings
from lakehouse.ingestion.table_metadata import contract_properties

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


def test_tables_holding_rescued_data_are_classified_at_the_source_systems_highest_level():
    """An unknown `customer_email` landed with an order goes to orders' `_rescued_data`: the
    general orders' bronze may not be granted to everybody, its silver may."""
    settings = IngestionSettings.from_conf(Conf(CONF))
    orders = next(c for c in settings.contracts if c.dataset == "orders")
    assert (orders.classification, settings.highest_classification) == (
        Classification.GENERAL,
        Classification.CONFIDENTIAL,  # customers' names and e-mails
    )
    bronze = contract_properties(orders, settings.highest_classification)
    assert json.loads(bronze["lakehouse.classification.columns"]) == {
        "_rescued_data": "confidential"
    }
    (rescued, silver) = table_access({
        ("dev_bronze", "crm", "orders"): bronze,
        ("dev_silver", "crm", "orders"): contract_properties(orders),
    })  # fmt: skip
    assert not rescued.readable_by_everybody and silver.readable_by_everybody

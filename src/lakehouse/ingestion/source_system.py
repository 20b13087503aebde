"""A source system's ingestion pipeline, declared from its contracts."""

from __future__ import annotations

from typing import Any

from lakehouse.ingestion.bronze import define_bronze
from lakehouse.ingestion.settings import IngestionSettings
from lakehouse.ingestion.silver import define_silver


def define_source_system(spark: Any) -> IngestionSettings:
    """Declare bronze and silver for each contract of the source system the pipeline's configuration
    names (``lakehouse.sourceSystem``, ``lakehouse.contracts``, ``lakehouse.landing``,
    ``lakehouse.env``); called from the pipeline's source file.

    Example:
        >>> define_source_system(spark)  # in src/lakehouse/ingestion/transformations/source_system.py  # doctest: +SKIP
    """
    settings = IngestionSettings.from_conf(spark.conf)
    for contract in settings.contracts:
        define_bronze(spark, contract, settings)
        define_silver(spark, contract, settings)
    return settings

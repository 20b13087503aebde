"""Ingestion generated from data contracts: one pipeline per source system, bronze and silver
per contract."""

from typing import TYPE_CHECKING

from lakehouse.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from lakehouse.ingestion.conservation import RowConservation, row_conservation
    from lakehouse.ingestion.source_system import define_source_system

# Loaded on first use: the bundle's resources read the ingestion settings without Spark.
__getattr__ = lazy_exports(
    __name__,
    {
        "RowConservation": "lakehouse.ingestion.conservation",
        "row_conservation": "lakehouse.ingestion.conservation",
        "define_source_system": "lakehouse.ingestion.source_system",
    },
)

__all__ = ["RowConservation", "define_source_system", "row_conservation"]

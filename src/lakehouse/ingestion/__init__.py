"""Ingestion generated from data contracts: one pipeline per source system, bronze and silver
per contract."""

from lakehouse.ingestion.conservation import RowConservation, row_conservation
from lakehouse.ingestion.pipeline import define_source_system

__all__ = ["RowConservation", "define_source_system", "row_conservation"]

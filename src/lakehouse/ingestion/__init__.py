"""Ingestion generated from data contracts: one pipeline per source system, bronze and silver
per contract."""

from lakehouse.ingestion.pipeline import define_source_system

__all__ = ["define_source_system"]

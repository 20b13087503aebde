"""Enterprise medallion lakehouse: contracts, ingestion, bundle and a local pipeline engine."""

__version__ = "0.1.0"

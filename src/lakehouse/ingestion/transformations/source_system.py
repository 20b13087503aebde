"""The ingestion pipeline of one source system: every table is generated from the source
system's data contracts. The same file runs on Databricks and on the local engine; the
pipeline's configuration says which source system (see docs/ingestion.md)."""

from lakehouse.ingestion import define_source_system

define_source_system(spark)  # noqa: F821 - the pipeline runtime provides `spark`

"""The local pipeline engine: runs Lakeflow / Delta Live Tables pipeline code unchanged on
open-source Spark + Delta Lake.

    graph.py, registry.py, api.py  definitions: what ``import dlt`` registers
    loader.py                      runs pipeline source files into a graph
    analysis.py                    checks and orders the graph before data moves
    update.py, expectations.py     runs flows into Delta tables, counts data quality
    event_log.py                   the event log table
    catalog.py, names.py           where tables live under the storage folder
    pipeline.py                    the Python API: run_pipeline, sql
"""

from lakehouse.engine.errors import (
    ConfigurationError,
    ExpectationFailed,
    FlowFailed,
    GraphError,
    PipelineError,
)
from lakehouse.engine.pipeline import UpdateResult, run_pipeline, sql
from lakehouse.engine.spark_session import get_spark

__all__ = [
    "ConfigurationError",
    "ExpectationFailed",
    "FlowFailed",
    "GraphError",
    "PipelineError",
    "UpdateResult",
    "get_spark",
    "run_pipeline",
    "sql",
]

"""The local pipeline engine: runs Lakeflow / Delta Live Tables pipeline code unchanged on
open-source Spark + Delta Lake.

    api.py          what ``import dlt`` / ``from pyspark import pipelines as dp`` give
    loader.py       runs pipeline source files into a graph
    session.py      the ``spark`` object pipeline code sees
    run.py          the Python API: run_pipeline, sql
    local_spark.py  starts open-source Spark with Delta Lake
    spark_connect.py  what differs as a Spark Connect client (LAKEHOUSE_SPARK_REMOTE)
    errors.py       errors users read

    graph/          frozen definitions, table names, the registry decorators fill
    analysis/       checks and orders the graph before data moves
    execution/      one update: the scheduler (tables in dependency order, once or
                    continuously) and the flow runner (read, skip, write, count one flow)
    sources/        Auto Loader: landed files found, read and tracked
    quality/        expectations and the row errors they raise
    cdc/            AUTO CDC: change events applied as SCD type 1 or 2
    storage/        the catalog, and LocalDeltaTable: every Delta read, write and merge
    observability/  the event log, failure reports, masking of classified values

A row goes: sources/ -> execution/ (with quality/ and cdc/) -> storage/, reported by
observability/.
"""

from typing import TYPE_CHECKING

from lakehouse.engine.errors import (
    ConfigurationError,
    ExpectationFailed,
    FlowFailed,
    GraphError,
    PipelineError,
)
from lakehouse.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from lakehouse.engine.local_spark import get_spark
    from lakehouse.engine.run import UpdateResult, run_pipeline, sql

# Loaded on first use: code that runs on Databricks (generated ingestion, the grants job)
# imports only errors, names and the like, and must not need the local engine's dependencies
# (delta-rs, the Delta jars).
__getattr__ = lazy_exports(
    __name__,
    {
        "UpdateResult": "lakehouse.engine.run",
        "run_pipeline": "lakehouse.engine.run",
        "sql": "lakehouse.engine.run",
        "get_spark": "lakehouse.engine.local_spark",
    },
)


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

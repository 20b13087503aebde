"""A SQL pipeline file's statements, registered into the same graph as Python's.

What a statement declares becomes the frozen ``Dataset`` and ``Flow`` the decorators of
``api.py`` register, so graph checks, expectations, AUTO CDC, incremental state and refresh
hold for SQL exactly as for Python, and either language reads the other's datasets.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

from pyspark.sql import DataFrame

from lakehouse.engine.graph.elements import Dataset, DatasetKind, Flow, SourceLocation
from lakehouse.engine.graph.registry import GraphRegistry
from lakehouse.engine.session import PipelineSparkSession, current_reader
from lakehouse.engine.sql_files.lexer import split_statements, tokenize
from lakehouse.engine.sql_files.query import parse_query
from lakehouse.engine.sql_files.statements import (
    CreateDataset,
    CreateFlow,
    SetConf,
    read_statement,
)


def register_sql_file(file: Path, registry: GraphRegistry, spark: PipelineSparkSession) -> None:
    """Read ``file``'s statements in order into ``registry``; ``SET`` values reach the
    ``${key}`` substitutions and the flows of the statements after them.

    Example:
        >>> register_sql_file(Path("gold.sql"), registry, spark)  # doctest: +SKIP
    """
    source = file.read_text()
    settings: dict[str, str] = {}

    def lookup(key: str) -> str | None:
        if key in settings:
            return settings[key]
        value = spark.conf.get(key, None)
        return None if value is None else str(value)

    for text, line, column in split_statements(source, str(file)):
        statement = tokenize(text, str(file), line, column, lookup)
        declared = read_statement(statement)
        if isinstance(declared, SetConf):
            settings[declared.key] = declared.value
            continue
        if isinstance(declared, CreateDataset):
            registry.register_dataset(
                Dataset(
                    name=declared.name,
                    kind=declared.kind,
                    location=statement.location(),
                    comment=declared.comment,
                    table_properties=declared.table_properties,
                    partition_cols=declared.partition_cols,
                    cluster_by=declared.cluster_by,
                    schema=declared.schema,
                    private=declared.private,
                    path=declared.path,
                    expectations=declared.expectations,
                    not_applied=tuple(
                        clause
                        for clause in (
                            declared.row_filter,
                            declared.path and f"LOCATION '{declared.path}'",
                        )
                        if clause
                    ),
                )
            )
            if declared.flow is None:
                continue
            # The dataset's own flow is known by the dataset's key, as @table's is.
            temporary_view = declared.kind is DatasetKind.VIEW and declared.private
            key = registry.qualify(declared.name, view=temporary_view)
            flow = replace(declared.flow, name=key, target=key)
        else:
            flow = declared
        registry.register_flow(_flow(flow, spark, dict(settings)))


def _flow(flow: CreateFlow, spark: PipelineSparkSession, settings: dict[str, str]) -> Flow:
    location = flow.statement.location()
    if flow.auto_cdc is not None:
        return Flow(
            name=flow.name,
            target=flow.target,
            query=partial(_read_source, flow.auto_cdc.source, location, streaming=not flow.once),
            location=location,
            once=flow.once,
            spark_conf=settings,
            auto_cdc=flow.auto_cdc,
        )
    assert flow.query is not None
    return Flow(
        name=flow.name,
        target=flow.target,
        query=parse_query(spark.session, flow.query, flow.statement),
        location=location,
        once=flow.once,
        spark_conf=settings,
    )


def _read_source(source: str, location: SourceLocation, *, streaming: bool) -> DataFrame:
    """An AUTO CDC flow's query: its source, streamed (or read once, for a ONCE flow)."""
    return current_reader().read(source, streaming=streaming, location=location)

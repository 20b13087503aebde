"""Views a SQL file publishes with ``CREATE VIEW``: written to the catalog at set-up, read
back by anyone (``lakehouse sql``, another pipeline) the way Unity Catalog runs a view: its
query, with short names resolved in the schema of the pipeline that published it.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from lakehouse.engine.graph.elements import Dataset, Flow
from lakehouse.engine.session import DatasetReader, reading_with
from lakehouse.engine.sql_files.lexer import Statement
from lakehouse.engine.sql_files.query import SqlQuery, parse_query
from lakehouse.engine.sql_files.statements import Query
from lakehouse.engine.storage.catalog import ViewDefinition


def view_definition(dataset: Dataset, flow: Flow, default: tuple[str, str]) -> ViewDefinition:
    """What the catalog keeps of the view ``dataset`` that ``flow`` defines.

    Example:
        >>> view_definition(dataset, flow, ("main", "sales")).query  # doctest: +SKIP
        "SELECT * FROM orders WHERE country = 'NL'"
    """
    query = flow.query
    assert isinstance(query, SqlQuery), "only SQL files declare published views"
    at = query.location
    return ViewDefinition(query.text, default, at.file, at.line, at.column or 1, dataset.comment)


def read_view(spark: SparkSession, view: ViewDefinition, reader: DatasetReader) -> DataFrame:
    """The published ``view``'s rows, each table it names read by ``reader``.

    Example:
        >>> read_view(spark, catalog.view(name), CatalogReader(spark, catalog, view.default))  # doctest: +SKIP
    """
    statement = Statement(view.query, (), view.file, view.line, view.column)
    query = parse_query(spark, Query(view.query, 0), statement)
    with reading_with(reader):
        return query()

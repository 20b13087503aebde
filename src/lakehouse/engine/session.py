"""The ``spark`` object pipeline code sees: a real SparkSession whose table reads, SQL and
configuration go through the pipeline.

``spark.read.table``, ``spark.readStream.table``, ``spark.table``, ``spark.sql`` and
``dlt.read``/``dlt.read_stream`` all reach the current ``DatasetReader``: while the engine
analyses the graph it records dependencies; while it runs it returns the stored tables.
Everything else is the real session.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import sqlglot
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType
from sqlglot import exp

from lakehouse.engine.errors import GraphError
from lakehouse.engine.graph.elements import SourceLocation
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.graph.source_location import user_code_location
from lakehouse.engine.settings import SANDPIT_FREE_ENVS, is_sandpit_catalog
from lakehouse.engine.spark_connect import sql_over_views, temporary_view_name
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.engine.storage.driver_reads import DEFAULT_MAX_ROWS, read_delta


class DatasetReader(Protocol):
    """Turns a table name read by pipeline code into a DataFrame."""

    def read(
        self,
        name: str,
        *,
        streaming: bool,
        location: SourceLocation | None,
        options: Mapping[str, str] | None = None,
    ) -> DataFrame: ...

    def auto_loader(
        self,
        path: str,
        options: Mapping[str, str],
        schema: StructType | None,
        location: SourceLocation | None,
    ) -> DataFrame:
        """``spark.readStream.format("cloudFiles")...load(path)`` inside a flow."""
        ...


class CatalogReader:
    """Reads tables of the local catalog: used outside a flow (module level code, ``lakehouse sql``)."""

    def __init__(
        self,
        spark: SparkSession,
        catalog: LocalCatalog,
        default: tuple[str, str],
        max_driver_rows: int = DEFAULT_MAX_ROWS,
        env: str | None = None,
    ):
        self.spark = spark
        self.catalog = catalog
        self.default = default
        self.max_driver_rows = max_driver_rows  # see driver_reads.py
        self.env = env  # the pipeline's lakehouse.env

    def check_readable(self, table: TableName, location: SourceLocation | None) -> None:
        """Refuse a sandpit's table (catalog ``<env>_sandpit``) to a pipeline of test or prod:
        a sandpit is an experiment, mutable and dropped when it expires, so nothing promoted may
        depend on it (docs/governance.md)."""
        if self.env in SANDPIT_FREE_ENVS and is_sandpit_catalog(table.catalog):
            raise GraphError(
                f"table '{table}' is in a sandpit, and this pipeline's lakehouse.env is "
                f"{self.env}: a test or prod pipeline never reads a sandpit; publish the data "
                "through a contract and the layers instead",
                location,
            )

    def read(
        self,
        name: str,
        *,
        streaming: bool,
        location: SourceLocation | None,
        options: Mapping[str, str] | None = None,
    ) -> DataFrame:
        table = TableName.parse(name, *self.default)
        self.check_readable(table, location)
        view = self.catalog.view(table)
        if view is not None:
            if streaming:
                raise GraphError(f"view '{table}' cannot be read as a stream", location)
            # Imported here: SQL files build on this module (a view is a SQL query).
            from lakehouse.engine.sql_files.published_views import read_view

            reader = CatalogReader(
                self.spark, self.catalog, view.default, self.max_driver_rows, self.env
            )
            return read_view(self.spark, view, reader)
        if not self.catalog.exists(table):
            raise GraphError(f"[TABLE_OR_VIEW_NOT_FOUND] table '{table}' does not exist", location)
        return read_delta(
            self.spark,
            self.catalog.table(table),
            streaming=streaming,
            options=options,
            max_driver_rows=self.max_driver_rows,
        )

    def auto_loader(
        self,
        path: str,
        options: Mapping[str, str],
        schema: StructType | None,
        location: SourceLocation | None,
    ) -> DataFrame:
        raise GraphError(
            "Auto Loader (cloudFiles) streams are read inside a flow's query function", location
        )


_reader: ContextVar[DatasetReader | None] = ContextVar("lakehouse_dataset_reader", default=None)


def current_reader() -> DatasetReader:
    reader = _reader.get()
    if reader is None:
        raise GraphError("datasets can only be read while the engine runs a pipeline")
    return reader


@contextmanager
def reading_with(reader: DatasetReader) -> Iterator[None]:
    token = _reader.set(reader)
    try:
        yield
    finally:
        _reader.reset(token)


class PipelineConf:
    """``spark.conf`` with the pipeline's configuration values in front of Spark's."""

    def __init__(self, conf: Any, values: Mapping[str, str]) -> None:
        self._conf = conf
        self._values = dict(values)

    def get(self, key: str, default: Any = ...) -> Any:
        if key in self._values:
            return self._values[key]
        return self._conf.get(key) if default is ... else self._conf.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._values[key] = str(value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conf, name)


class _PipelineReader:
    """Wraps ``DataFrameReader``/``DataStreamReader``: remembers format and options so that
    ``.table(name)`` reaches the pipeline, and passes everything else to Spark."""

    def __init__(self, reader: Any, streaming: bool) -> None:
        self._reader = reader
        self._streaming = streaming
        self._options: dict[str, str] = {}
        self._format: str | None = None
        self._schema: StructType | str | None = None

    def format(self, source: str) -> _PipelineReader:
        self._format = source
        self._reader = self._reader.format(source)
        return self

    def option(self, key: str, value: Any) -> _PipelineReader:
        self._options[key] = str(value)
        self._reader = self._reader.option(key, value)
        return self

    def options(self, **options: Any) -> _PipelineReader:
        for key, value in options.items():
            self.option(key, value)
        return self

    def schema(self, schema: Any) -> _PipelineReader:
        self._schema = schema
        self._reader = self._reader.schema(schema)
        return self

    def load(self, path: Any = None, *args: Any, **kwargs: Any) -> DataFrame:
        if self._streaming and (self._format or "").lower() == "cloudfiles":
            schema = self._schema
            if isinstance(schema, str):  # parsed only for Auto Loader; Spark parses its own
                schema = StructType.fromDDL(schema)
            return current_reader().auto_loader(
                str(path), self._options, schema, user_code_location()
            )
        return self._reader.load(path, *args, **kwargs)

    def table(self, name: str) -> DataFrame:
        return current_reader().read(
            name, streaming=self._streaming, location=user_code_location(), options=self._options
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


UNITY_CATALOG_ENABLED = "spark.databricks.unityCatalog.enabled"


class PipelineSparkSession:
    """The ``spark`` global of a pipeline source file.

    Example:
        >>> spark.conf.get("source_path")  # a value from the pipeline's configuration  # doctest: +SKIP
        >>> spark.read.table("orders")      # a pipeline dataset or a catalog table  # doctest: +SKIP
    """

    def __init__(self, spark: SparkSession, configuration: Mapping[str, str]) -> None:
        self._spark = spark
        # A local pipeline publishes to a catalog and schema as a Unity Catalog pipeline does;
        # code that asks the runtime which kind it is (sdp-meta does) gets the same answer.
        self._conf = PipelineConf(spark.conf, {UNITY_CATALOG_ENABLED: "true", **configuration})
        self.configuration: Mapping[str, str] = dict(configuration)

    @property
    def session(self) -> SparkSession:
        """The real session underneath, for what reads its own tables (SQL pipeline files)."""
        return self._spark

    @property
    def conf(self) -> PipelineConf:
        return self._conf

    @property
    def read(self) -> _PipelineReader:
        return _PipelineReader(self._spark.read, streaming=False)

    @property
    def readStream(self) -> _PipelineReader:
        return _PipelineReader(self._spark.readStream, streaming=True)

    def table(self, name: str) -> DataFrame:
        return self.read.table(name)

    def sql(self, query: str, args: Any = None, **kwargs: Any) -> DataFrame:
        """Run SQL whose table names resolve like ``spark.read.table``."""
        location = user_code_location()  # here: the tables are read from inside sqlglot
        return sql_over_tables(
            self._spark,
            query,
            lambda name, streaming: current_reader().read(
                name, streaming=streaming, location=location
            ),
            args,
            **kwargs,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._spark, name)


def sql_over_tables(
    spark: SparkSession, query: str, read: Any, *args: Any, **kwargs: Any
) -> DataFrame:
    """Run SQL whose table names are resolved by ``read`` ((name, streaming) -> DataFrame).

    Each table becomes a view only this query sees (``spark_connect.sql_over_views``), so
    views never pile up.

    Example:
        >>> sql_over_tables(spark, "SELECT count(*) FROM main.sales.orders", reader)  # doctest: +SKIP
    """
    views: dict[str, DataFrame] = {}
    bound = bind_table_references(query, read, views)
    return sql_over_views(spark, bound, views, *args, **kwargs)


def bind_table_references(query: str, read: Any, views: dict[str, DataFrame]) -> str:
    """Replace each table a SQL query reads by a view name over ``read(name, streaming)``
    (``STREAM(t)`` / ``STREAM t`` stream it), added to ``views``. The query is Databricks SQL:
    ``col:a.b`` JSON paths and ``::`` casts become Spark's own functions.

    Example:
        >>> bind_table_references("SELECT * FROM STREAM(main.sales.orders)", reader, {})  # doctest: +SKIP
        'SELECT * FROM __lakehouse_0'
    """
    try:
        tree = sqlglot.parse_one(query, read="databricks")
    except sqlglot.errors.SqlglotError:
        return query  # let Spark report the syntax error in its own words
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    bound: dict[tuple[str, bool], str] = {}

    def view_over(table: exp.Table, streaming: bool, alias: Any) -> exp.Expression:
        name = ".".join(f"`{p}`" for p in (table.catalog, table.db, table.name) if p)
        if (name, streaming) not in bound:
            view = temporary_view_name()
            views[view] = read(name, streaming)
            bound[name, streaming] = view
        return exp.Table(this=exp.to_identifier(bound[name, streaming]), alias=alias)

    def bind(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Stream):  # STREAM(t) [AS a], STREAM t [AS a]
            inner = node.this
            alias = inner.args.get("alias")
            table = inner.this if isinstance(inner, exp.Subquery) else inner
            if isinstance(table, exp.Table) and not isinstance(table.this, exp.Func):
                return view_over(table, True, alias or table.args.get("alias"))
            return node
        if not isinstance(node, exp.Table) or not node.name or node.name.lower() in ctes:
            return node
        if isinstance(node.this, exp.Anonymous | exp.Func):
            return node  # table-valued function
        return view_over(node, False, node.args.get("alias"))

    return tree.transform(bind).sql(dialect="spark")

"""What a table is, as ``DESCRIBE`` and ``SHOW`` statements tell it, for tables of the local
catalog named by their three-level names.

Spark's session catalog does not know these tables (the storage folder is the metastore), so
each statement is answered over the table's Delta log: Delta's own ``DESCRIBE HISTORY``,
``DESCRIBE DETAIL`` and ``SHOW TBLPROPERTIES`` on the table's path, ``DESCRIBE TABLE
[EXTENDED]`` with the table's name and comment put back, and ``SHOW CREATE TABLE`` written
from the log, which open-source Delta does not offer. A published view is described by its
definition and the columns its query gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql.types import StructField, StructType

from lakehouse.engine.errors import GraphError
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog, ViewDefinition
from lakehouse.engine.storage.table_setup import (
    GENERATION_EXPRESSION,
    IDENTITY_ALLOW_EXPLICIT_INSERT,
    IDENTITY_START,
    IDENTITY_STEP,
)
from lakehouse.sql_quoting import quote_identifier, quote_string

_NAME = r"(?P<name>(?:`[^`]*`|[\w$]+)(?:\s*\.\s*(?:`[^`]*`|[\w$]+)){0,2})"
_STATEMENTS = {
    "describe_history": rf"DESC(?:RIBE)?\s+HISTORY\s+{_NAME}(?P<rest>\s+LIMIT\s+\d+)?",
    "describe_detail": rf"DESC(?:RIBE)?\s+DETAIL\s+{_NAME}",
    "describe": rf"DESC(?:RIBE)?(?:\s+TABLE)?(?P<extended>\s+(?:EXTENDED|FORMATTED))?\s+{_NAME}",
    "show_tblproperties": rf"SHOW\s+TBLPROPERTIES\s+{_NAME}(?P<rest>\s*\(\s*'[^']*'\s*\))?",
    "show_create_table": rf"SHOW\s+CREATE\s+TABLE\s+{_NAME}",
}
_PATTERNS = {
    kind: re.compile(rf"\s*{pattern}\s*;?\s*", re.IGNORECASE | re.DOTALL)
    for kind, pattern in _STATEMENTS.items()
}


def metadata_statement(
    spark: SparkSession,
    catalog: LocalCatalog,
    default: tuple[str, str],
    statement: str,
    view_schema: Callable[[TableName], StructType],
) -> DataFrame | None:
    """The answer to a ``DESCRIBE`` / ``SHOW`` statement about one table or published view of
    ``catalog`` (``view_schema`` gives a view's columns), or None when ``statement`` is none of
    them. A missing table is a ``GraphError``.

    Example:
        >>> metadata_statement(spark, catalog, ("main", "default"),
        ...                    "SHOW TBLPROPERTIES main.sales.orders", schema_of).collect()  # doctest: +SKIP
        [Row(key='quality', value='silver')]
    """
    for kind, pattern in _PATTERNS.items():
        match = pattern.fullmatch(statement)
        if match is None:
            continue
        name = TableName.parse(match.group("name"), *default)
        view = catalog.view(name)
        if view is not None:
            extended = bool(match.groupdict().get("extended"))
            return _describe_view(spark, kind, name, view, view_schema(name), extended)
        if not catalog.exists(name):
            raise GraphError(f"[TABLE_OR_VIEW_NOT_FOUND] table '{name}' does not exist")
        path = f"delta.{quote_identifier(str(catalog.table_path(name)))}"
        rest = (match.groupdict().get("rest") or "").strip()
        if kind == "describe_history":
            return spark.sql(f"DESCRIBE HISTORY {path} {rest}")
        if kind == "describe_detail":
            return _with_name(spark.sql(f"DESCRIBE DETAIL {path}"), name)
        if kind == "show_tblproperties":
            return spark.sql(f"SHOW TBLPROPERTIES {path} {rest}")
        if kind == "show_create_table":
            statement_text = show_create_table(spark, catalog, name)
            return spark.createDataFrame([(statement_text,)], "createtab_stmt STRING")
        extended = bool(match.group("extended"))
        return _describe(spark, path, name, extended)
    return None


def show_create_table(spark: SparkSession, catalog: LocalCatalog, name: TableName) -> str:
    """The ``CREATE TABLE`` statement that makes ``name`` as its Delta log describes it:
    columns (comments and generation expressions included), partitioning, clustering,
    comment and properties.

    Example:
        >>> print(show_create_table(spark, catalog, TableName("main", "sales", "orders")))  # doctest: +SKIP
        CREATE TABLE main.sales.orders (
          id INT,
          ...
    """
    path = catalog.table_path(name)
    detail = spark.sql(f"DESCRIBE DETAIL delta.{quote_identifier(str(path))}").first()
    assert detail is not None
    schema = catalog.table(name).spark_schema()
    lines = [f"CREATE TABLE {_quoted(name)} ("]
    lines.append(",\n".join(f"  {_column(field)}" for field in schema.fields))
    lines.append(")\nUSING delta")
    if detail["partitionColumns"]:
        lines.append(f"PARTITIONED BY ({', '.join(map(_identifier, detail['partitionColumns']))})")
    if detail["clusteringColumns"]:
        lines.append(f"CLUSTER BY ({', '.join(map(_identifier, detail['clusteringColumns']))})")
    if detail["description"]:
        lines.append(f"COMMENT {quote_string(detail['description'])}")
    properties = dict(sorted((detail["properties"] or {}).items()))
    if properties:
        pairs = ",\n".join(
            f"  {quote_string(k)} = {quote_string(v)}" for k, v in properties.items()
        )
        lines.append(f"TBLPROPERTIES (\n{pairs})")
    return "\n".join(lines) + "\n"


def _describe(spark: SparkSession, path: str, name: TableName, extended: bool) -> DataFrame:
    frame = spark.sql(f"DESCRIBE TABLE {'EXTENDED ' if extended else ''}{path}")
    if not extended:
        return frame
    described = frame.collect()
    comment = None
    if not any(row["col_name"] == "Comment" for row in described):
        comment = spark.sql(f"DESCRIBE DETAIL {path}").first()["description"]  # type: ignore[index]
    names = {
        "Catalog": name.catalog,
        "Namespace": name.schema,
        "Database": name.schema,
        "Table": name.table,
    }
    rows: list[Row] = []
    for row in described:
        if row["col_name"] in names:
            row = Row(col_name=row["col_name"], data_type=names[row["col_name"]], comment="")
        rows.append(row)
        if row["col_name"] == "Table" and comment:
            rows.append(Row(col_name="Comment", data_type=comment, comment=""))
    return spark.createDataFrame(rows, frame.schema)


def _describe_view(
    spark: SparkSession,
    kind: str,
    name: TableName,
    view: ViewDefinition,
    schema: StructType,
    extended: bool,
) -> DataFrame:
    if kind == "show_create_table":
        comment = f" COMMENT {quote_string(view.comment)}" if view.comment else ""
        text = f"CREATE VIEW {_quoted(name)}{comment} AS\n{view.query}\n"
        return spark.createDataFrame([(text,)], "createtab_stmt STRING")
    if kind != "describe":
        raise GraphError(f"'{name}' is a view: {kind.replace('_', ' ').upper()} is for tables")
    rows = [(f.name, f.dataType.simpleString(), f.metadata.get("comment")) for f in schema]
    if extended:
        rows += [("", "", ""), ("# Detailed Table Information", "", "")]
        rows += [
            (key, value, "")
            for key, value in (
                ("Catalog", name.catalog),
                ("Namespace", name.schema),
                ("Table", name.table),
                ("Type", "VIEW"),
                ("Comment", view.comment),
                ("View Text", view.query),
                ("View Catalog and Namespace", ".".join(view.default)),
            )
            if value
        ]
    return spark.createDataFrame(rows, "col_name STRING, data_type STRING, comment STRING")


def _with_name(detail: DataFrame, name: TableName) -> DataFrame:
    from pyspark.sql import functions as F

    return detail.withColumn("name", F.lit(str(name)))


def _column(field: StructField) -> str:
    text = f"{_identifier(field.name)} {field.dataType.simpleString().upper()}"
    if not field.nullable:
        text += " NOT NULL"
    metadata = field.metadata
    if metadata.get(GENERATION_EXPRESSION):
        text += f" GENERATED ALWAYS AS ({metadata[GENERATION_EXPRESSION]})"
    if IDENTITY_START in metadata:
        when = "BY DEFAULT" if metadata.get(IDENTITY_ALLOW_EXPLICIT_INSERT) else "ALWAYS"
        text += (
            f" GENERATED {when} AS IDENTITY (START WITH {metadata[IDENTITY_START]}"
            f" INCREMENT BY {metadata.get(IDENTITY_STEP, 1)})"
        )
    if field.metadata.get("comment"):
        text += f" COMMENT {quote_string(field.metadata['comment'])}"
    return text


def _quoted(name: TableName) -> str:
    return ".".join(map(_identifier, (name.catalog, name.schema, name.table)))


def _identifier(name: str) -> str:
    """Plain names as written; others quoted, so the statement runs as printed."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else quote_identifier(name)

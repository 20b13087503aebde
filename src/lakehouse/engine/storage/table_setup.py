"""Creates a dataset's Delta table before or without its first write, and keeps its declared
table properties in step with the code.

A plain table (no clustering, no ``delta.*`` properties, column types and metadata that need
no table feature) is created with delta-rs: one small commit written in milliseconds, with the
same protocol (reader 1, writer 2), schema, comment and partitioning Spark would write, and no
Spark job. So is a table whose only ``delta.*`` properties are ``delta.appendOnly`` and
``delta.enableChangeDataFeed`` (bronze, silver), at the protocol that has always carried them
(writer 2, or 4 with the change data feed): Spark would name them as table features (writer 7),
which delta-rs does not write, and every later write would then need a Spark job
(``driver_writes.py``). Anything else goes through Delta's own ``DeltaTable.createIfNotExists``,
which knows every table feature, or the same table as a ``CREATE TABLE`` statement for a Spark
Connect client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from delta.tables import DeltaTable, DeltaTableBuilder, IdentityGenerator
from pyspark.sql import SparkSession
from pyspark.sql.types import (
    ArrayType,
    DataType,
    MapType,
    StructField,
    StructType,
    TimestampNTZType,
    VariantType,
)

from lakehouse.engine.errors import ConfigurationError
from lakehouse.engine.graph.elements import Dataset, DatasetKind, SourceLocation
from lakehouse.engine.spark_connect import is_connect
from lakehouse.engine.storage.delta_table import LocalDeltaTable
from lakehouse.sql_quoting import quote_identifier, quote_string

# Characters Delta refuses in column names unless column mapping is on (a table feature).
# Delta's column metadata for generated and identity columns, as its table schema stores them.
GENERATION_EXPRESSION = "delta.generationExpression"
IDENTITY_START = "delta.identity.start"
IDENTITY_STEP = "delta.identity.step"
IDENTITY_ALLOW_EXPLICIT_INSERT = "delta.identity.allowExplicitInsert"

_NEEDS_COLUMN_MAPPING = set(" ,;{}()\n\t=")


def ensure_table(
    spark: SparkSession, table: LocalDeltaTable, dataset: Dataset | None, schema: StructType
) -> None:
    """Create ``table`` with ``schema`` and the dataset's metadata (none for the engine's own
    state tables), unless it exists.

    Example:
        >>> orders = LocalDeltaTable(Path("/lh/catalog/main/sales/orders"))
        >>> ensure_table(spark, orders, dataset, StructType.fromDDL("id BIGINT NOT NULL"))  # doctest: +SKIP
    """
    if table.exists():  # a creation cut short leaves an empty log: create it again
        return
    name = table.path.name
    dataset = dataset or Dataset(name, DatasetKind.STREAMING_TABLE, SourceLocation("", 0))
    if _needs_spark(dataset, schema):
        # Delta's builder is out of a Spark Connect client's reach without Delta's Connect
        # plugin on the server; the same table in SQL is not.
        create = _create_with_sql if is_connect(spark) else _create_with_spark
        create(spark, table.path, dataset, schema)
        return
    table.create(
        schema,
        partition_by=list(dataset.partition_cols),
        comment=dataset.comment,
        properties={k: str(v) for k, v in dataset.table_properties.items()},
    )


def nullable(schema: StructType) -> StructType:
    """``schema`` with every column, nested ones included, nullable.

    Example:
        >>> nullable(StructType.fromDDL("id INT NOT NULL")).fields[0].nullable
        True
    """
    return StructType.fromJson(_nullable_json(schema.jsonValue()))


def _nullable_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: True if k in ("nullable", "containsNull", "valueContainsNull") else _nullable_json(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_nullable_json(v) for v in value]
    return value


def sync_properties(spark: SparkSession, table: LocalDeltaTable, dataset: Dataset) -> None:
    """Apply table properties changed in the code since the table was created.

    Example:
        >>> sync_properties(spark, LocalDeltaTable(Path("/lh/catalog/main/sales/orders")),
        ...                 dataset)  # doctest: +SKIP
    """
    declared = {k: str(v) for k, v in dataset.table_properties.items()}
    if not declared:
        return
    current = table.properties()
    changed = {k: v for k, v in declared.items() if current.get(k) != v}
    if changed:
        assignments = ", ".join(
            f"{quote_string(k)} = {quote_string(v)}" for k, v in changed.items()
        )
        spark.sql(
            f"ALTER TABLE delta.{quote_identifier(str(table.path))} "
            f"SET TBLPROPERTIES ({assignments})"
        )


# The delta.* properties of a protocol delta-rs writes (writer 2 and 4); see above.
_LEGACY_PROTOCOL_PROPERTIES = {"delta.appendOnly", "delta.enableChangeDataFeed"}


def _needs_spark(dataset: Dataset, schema: StructType) -> bool:
    return bool(
        dataset.cluster_by
        or any(
            key.startswith("delta.") and key not in _LEGACY_PROTOCOL_PROPERTIES
            for key in dataset.table_properties
        )
        or any(_needs_table_feature(field.name, field.dataType, field.metadata) for field in schema)
    )


def _needs_table_feature(name: str, data_type: DataType, metadata: dict[str, object]) -> bool:
    if _NEEDS_COLUMN_MAPPING & set(name) or set(metadata) - {"comment"}:
        return True  # column mapping, defaults, generated or identity columns, ...
    if isinstance(data_type, (TimestampNTZType, VariantType)):
        return True
    if isinstance(data_type, StructType):
        return any(_needs_table_feature(f.name, f.dataType, f.metadata) for f in data_type)
    if isinstance(data_type, ArrayType):
        return _needs_table_feature("element", data_type.elementType, {})
    if isinstance(data_type, MapType):
        return _needs_table_feature("key", data_type.keyType, {}) or _needs_table_feature(
            "value", data_type.valueType, {}
        )
    return False


def _create_with_spark(
    spark: SparkSession, path: Path, dataset: Dataset, schema: StructType
) -> None:
    builder = DeltaTable.createIfNotExists(spark).location(str(path))
    for field in _generated_as_declared(spark, schema).fields:
        builder = _add_column(builder, field)
    if dataset.comment:
        builder = builder.comment(dataset.comment)
    for key, value in dataset.table_properties.items():
        builder = builder.property(key, str(value))
    if dataset.partition_cols:
        builder = builder.partitionedBy(*dataset.partition_cols)
    if dataset.cluster_by:
        builder = builder.clusterBy(*dataset.cluster_by)
    builder.execute()


def _create_with_sql(spark: SparkSession, path: Path, dataset: Dataset, schema: StructType) -> None:
    """What ``_create_with_spark`` creates, as a ``CREATE TABLE`` statement."""
    columns = ", ".join(_column_sql(f) for f in _generated_as_declared(spark, schema).fields)
    statement = (
        f"CREATE TABLE IF NOT EXISTS delta.{quote_identifier(str(path))} ({columns}) USING DELTA"
    )
    if dataset.partition_cols:
        statement += f" PARTITIONED BY ({', '.join(map(quote_identifier, dataset.partition_cols))})"
    if dataset.cluster_by:
        statement += f" CLUSTER BY ({', '.join(map(quote_identifier, dataset.cluster_by))})"
    if dataset.comment:
        statement += f" COMMENT {quote_string(dataset.comment)}"
    if dataset.table_properties:
        properties = ", ".join(
            f"{quote_string(k)} = {quote_string(str(v))}"
            for k, v in dataset.table_properties.items()
        )
        statement += f" TBLPROPERTIES ({properties})"
    spark.sql(statement)


def _column_sql(field: StructField) -> str:
    metadata = dict(field.metadata)
    column = f"{quote_identifier(field.name)} {_type_sql(field.dataType)}"
    if not field.nullable:
        column += " NOT NULL"
    if GENERATION_EXPRESSION in metadata:
        column += f" GENERATED ALWAYS AS ({metadata.pop(GENERATION_EXPRESSION)})"
    if IDENTITY_START in metadata:
        by = "BY DEFAULT" if metadata.pop(IDENTITY_ALLOW_EXPLICIT_INSERT, False) else "ALWAYS"
        start, step = metadata.pop(IDENTITY_START), metadata.pop(IDENTITY_STEP, 1)
        column += f" GENERATED {by} AS IDENTITY (START WITH {int(start)} INCREMENT BY {int(step)})"
    if "comment" in metadata:
        column += f" COMMENT {quote_string(str(metadata.pop('comment')))}"
    if metadata:
        raise ConfigurationError(
            f"column '{field.name}': its metadata {sorted(metadata)} is kept by Delta's table "
            "builder, which a Spark Connect client reaches only with Delta's Connect plugin on "
            "the server; create the table with a Spark driver (LAKEHOUSE_SPARK_REMOTE unset)"
        )
    return column


def _type_sql(data_type: DataType) -> str:
    """``data_type`` in SQL, nested field names quoted."""
    if isinstance(data_type, StructType):
        fields = (
            f"{quote_identifier(f.name)}: {_type_sql(f.dataType)}{'' if f.nullable else ' NOT NULL'}"
            + (f" COMMENT {quote_string(f.metadata['comment'])}" if "comment" in f.metadata else "")
            for f in data_type.fields
        )
        return f"STRUCT<{', '.join(fields)}>"
    if isinstance(data_type, ArrayType):
        return f"ARRAY<{_type_sql(data_type.elementType)}>"
    if isinstance(data_type, MapType):
        return f"MAP<{_type_sql(data_type.keyType)}, {_type_sql(data_type.valueType)}>"
    return data_type.simpleString()


def _generated_as_declared(spark: SparkSession, schema: StructType) -> StructType:
    """Generation expressions cast to their column's type where they differ (the Python
    reference's ``STRING GENERATED ALWAYS AS (dayofweek(...))``): Delta requires the types
    to be equal."""
    generated = [f for f in schema.fields if GENERATION_EXPRESSION in f.metadata]
    if not generated:
        return schema
    inputs = StructType([f for f in schema.fields if GENERATION_EXPRESSION not in f.metadata])
    empty = spark.createDataFrame([], inputs)
    fields = []
    for field in schema.fields:
        expression = field.metadata.get(GENERATION_EXPRESSION)
        if expression is not None:
            computed = empty.selectExpr(f"({expression})").schema.fields[0].dataType
            if computed != field.dataType:
                expression = f"CAST(({expression}) AS {field.dataType.simpleString()})"
            field = StructField(
                field.name,
                field.dataType,
                field.nullable,
                {**field.metadata, GENERATION_EXPRESSION: expression},
            )
        fields.append(field)
    return StructType(fields)


def _add_column(builder: DeltaTableBuilder, field: StructField) -> DeltaTableBuilder:
    """One column, its generation expression or identity (``analysis/table_schema.py``)
    handed to Delta's builder, which records them as Delta does."""
    metadata = dict(field.metadata)
    comment = metadata.pop("comment", None)
    generated: dict[str, Any] = {}
    if GENERATION_EXPRESSION in metadata:
        generated["generatedAlwaysAs"] = metadata.pop(GENERATION_EXPRESSION)
    if IDENTITY_START in metadata:
        identity = IdentityGenerator(
            start=int(metadata.pop(IDENTITY_START)), step=int(metadata.pop(IDENTITY_STEP, 1))
        )
        by_default = bool(metadata.pop(IDENTITY_ALLOW_EXPLICIT_INSERT, False))
        generated["generatedByDefaultAs" if by_default else "generatedAlwaysAs"] = identity
    if metadata:  # anything else Delta keeps in the schema as it is
        return builder.addColumns(StructType([field]))
    return builder.addColumn(
        field.name, field.dataType, field.nullable, comment=comment, **generated
    )

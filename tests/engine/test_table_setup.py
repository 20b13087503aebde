"""Tables created before their first write look to Spark exactly as Delta's own builder makes them."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from lakehouse.engine.graph.elements import Dataset, DatasetKind, SourceLocation
from lakehouse.engine.storage.delta_table import LocalDeltaTable
from lakehouse.engine.storage.table_setup import (
    GENERATION_EXPRESSION,
    IDENTITY_ALLOW_EXPLICIT_INSERT,
    IDENTITY_START,
    IDENTITY_STEP,
    _create_with_spark,
    _create_with_sql,
    ensure_table,
    sync_properties,
)

SCHEMA = (
    "id BIGINT NOT NULL COMMENT 'order id', amount DECIMAL(10,2), country STRING, "
    "lines ARRAY<STRUCT<sku: STRING, qty: INT>>, tags MAP<STRING, STRING>, at TIMESTAMP, day DATE"
)


def _dataset(**metadata) -> Dataset:
    return Dataset(
        "main.sales.orders", DatasetKind.STREAMING_TABLE, SourceLocation("x.py", 1), **metadata
    )


def _protocol(path) -> dict:
    for line in (path / "_delta_log" / f"{0:020d}.json").read_text().splitlines():
        if "protocol" in (action := json.loads(line)):
            return action["protocol"]
    raise AssertionError("no protocol action in the first commit")


def test_a_plain_table_matches_what_deltas_builder_creates(spark, tmp_path):
    schema = StructType.fromDDL(SCHEMA)
    dataset = _dataset(
        comment="Orders", table_properties={"quality": "bronze"}, partition_cols=("country",)
    )
    ensure_table(spark, LocalDeltaTable(tmp_path / "ours"), dataset, schema)
    DeltaTable.createIfNotExists(spark).location(str(tmp_path / "builder")).addColumns(
        schema
    ).comment("Orders").property("quality", "bronze").partitionedBy("country").execute()

    ours, builder = (
        DeltaTable.forPath(spark, str(tmp_path / name)).detail().collect()[0]
        for name in ("ours", "builder")
    )
    for key in ("description", "properties", "partitionColumns", "numFiles"):
        assert ours[key] == builder[key], key
    assert _protocol(tmp_path / "ours") == _protocol(tmp_path / "builder")
    read = spark.read.format("delta").load(str(tmp_path / "ours"))
    assert_df_equality(read, spark.read.format("delta").load(str(tmp_path / "builder")))
    assert read.schema == schema


def test_spark_enforces_not_null_on_a_table_created_before_its_first_write(spark, tmp_path):
    ensure_table(
        spark, LocalDeltaTable(tmp_path / "t"), _dataset(), StructType.fromDDL("id BIGINT NOT NULL")
    )
    with pytest.raises(Exception, match="NOT_NULL_CONSTRAINT_VIOLATED"):
        spark.createDataFrame([(None,)], "id BIGINT").write.format("delta").mode("append").save(
            str(tmp_path / "t")
        )


@pytest.mark.parametrize(
    ("ddl", "metadata"),
    [
        ("id BIGINT, at TIMESTAMP_NTZ", {}),
        ("id BIGINT", {"table_properties": {"delta.enableDeletionVectors": "true"}}),
        ("id BIGINT, country STRING", {"cluster_by": ("country",)}),
    ],
)
def test_tables_that_need_a_table_feature_are_created_readable_and_writable(
    spark, tmp_path, ddl, metadata
):
    path = tmp_path / "t"
    ensure_table(spark, LocalDeltaTable(path), _dataset(**metadata), StructType.fromDDL(ddl))
    frame = spark.read.format("delta").load(str(path))
    assert frame.schema == StructType.fromDDL(ddl)
    frame.write.format("delta").mode("append").save(str(path))


def test_append_only_change_feed_tables_are_created_at_the_protocol_that_carries_them(
    spark, tmp_path
):
    path = tmp_path / "t"
    properties = {"delta.appendOnly": "true", "delta.enableChangeDataFeed": "true"}
    ensure_table(
        spark,
        LocalDeltaTable(path),
        _dataset(table_properties=properties),
        StructType.fromDDL("id BIGINT"),
    )
    assert _protocol(path) == {"minReaderVersion": 1, "minWriterVersion": 4}
    assert LocalDeltaTable(path).delta_rs_writes()
    LocalDeltaTable(path).append(pa.table({"id": pa.array([1], pa.int64())}))
    changes = spark.read.format("delta").option("readChangeFeed", "true")
    assert [
        (r.id, r._change_type)
        for r in changes.option("startingVersion", 0).load(str(path)).collect()
    ] == [(1, "insert")]
    with pytest.raises(Exception, match="DELTA_CANNOT_MODIFY_APPEND_ONLY"):
        DeltaTable.forPath(spark, str(path)).delete()


def test_changed_table_properties_are_applied_to_an_existing_table(spark, tmp_path):
    path = tmp_path / "t"
    ensure_table(
        spark,
        LocalDeltaTable(path),
        _dataset(table_properties={"quality": "bronze"}),
        StructType.fromDDL("id INT"),
    )
    sync_properties(
        spark,
        LocalDeltaTable(path),
        _dataset(table_properties={"quality": "silver", "team": "sales"}),
    )
    properties = DeltaTable.forPath(spark, str(path)).detail().collect()[0]["properties"]
    assert properties == {"quality": "silver", "team": "sales"}


def test_a_column_name_delta_cannot_store_gets_deltas_own_error(spark, tmp_path):
    with pytest.raises(Exception, match="INVALID_CHARACTERS_IN_COLUMN_NAMES"):
        ensure_table(
            spark,
            LocalDeltaTable(tmp_path / "t"),
            _dataset(),
            StructType.fromDDL("`order id` BIGINT"),
        )


@pytest.mark.parametrize(
    ("ddl", "metadata"),
    [
        (SCHEMA, {"comment": "Orders", "partition_cols": ("country",)}),
        ("id BIGINT, at TIMESTAMP_NTZ, s STRUCT<`a-b`: INT NOT NULL COMMENT 'x'>", {}),
        ("id BIGINT, country STRING", {"cluster_by": ("country",)}),
        ("id BIGINT", {"table_properties": {"delta.enableDeletionVectors": "true", "q": "1"}}),
    ],
)
def test_a_connect_client_creates_the_table_deltas_builder_creates(spark, tmp_path, ddl, metadata):
    """A Spark Connect client creates tables that need a table feature with CREATE TABLE."""
    schema = StructType.fromDDL(ddl)
    dataset = _dataset(**metadata)
    _create_with_sql(spark, tmp_path / "sql", dataset, schema)
    _create_with_spark(spark, tmp_path / "builder", dataset, schema)
    _assert_same_table(spark, tmp_path / "sql", tmp_path / "builder")


def test_a_connect_client_creates_generated_and_identity_columns_as_deltas_builder(spark, tmp_path):
    schema = StructType(
        [
            StructField("id", LongType(), False, {IDENTITY_START: 10, IDENTITY_STEP: 5}),
            StructField("n", LongType(), True, {IDENTITY_START: 1, IDENTITY_ALLOW_EXPLICIT_INSERT: True}),
            StructField("at", TimestampType()),
            StructField("day", StringType(), True, {GENERATION_EXPRESSION: "dayofweek(at)"}),
        ]
    )  # fmt: skip
    _create_with_sql(spark, tmp_path / "sql", _dataset(), schema)
    _create_with_spark(spark, tmp_path / "builder", _dataset(), schema)
    _assert_same_table(spark, tmp_path / "sql", tmp_path / "builder")


def _assert_same_table(spark, ours, builder) -> None:
    ours_detail, builder_detail = (
        DeltaTable.forPath(spark, str(path)).detail().collect()[0] for path in (ours, builder)
    )
    for key in ("description", "properties", "partitionColumns", "clusteringColumns"):
        assert ours_detail[key] == builder_detail[key], key
    assert _protocol(ours) == _protocol(builder)
    ours_schema, builder_schema = (
        spark.read.format("delta").load(str(path)).schema for path in (ours, builder)
    )
    assert ours_schema.jsonValue() == builder_schema.jsonValue()

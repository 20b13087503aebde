"""The engine's pieces on their own: names, the registry, SQL binding, the API as data."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame

from lakehouse.engine import ConfigurationError, GraphError
from lakehouse.engine import api as dlt
from lakehouse.engine.cdc.events import sequence_order
from lakehouse.engine.graph.elements import DatasetKind, Expectation
from lakehouse.engine.graph.names import TableName, split_identifier
from lakehouse.engine.graph.registry import GraphRegistry, registering_into
from lakehouse.engine.session import bind_table_references
from lakehouse.engine.spark_connect import sql_over_views


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("orders", ("main", "sales", "orders")),
        ("Raw.Orders", ("main", "raw", "orders")),
        ("prod.raw.orders", ("prod", "raw", "orders")),
        ("LIVE.orders", ("main", "sales", "orders")),
        ("`my-cat`.`s`.`t.x`", ("my-cat", "s", "t.x")),
    ],
)
def test_table_names_resolve_against_the_target_catalog_and_schema(name, expected):
    assert TableName.parse(name, "main", "sales") == TableName(*expected)


@pytest.mark.parametrize("name", ["a.b.c.d", "a..b", "`open", ""])
def test_malformed_table_names_are_configuration_errors(name):
    with pytest.raises(ConfigurationError, match="not a"):
        TableName.parse(name, "main", "sales")


def test_split_identifier_keeps_dots_inside_backticks():
    assert split_identifier("`a.b`.c") == ["a.b", "c"]


def test_decorators_only_register_frozen_definitions():
    registry = GraphRegistry("main", "sales")
    with registering_into(registry):

        @dlt.table(comment="c", table_properties={"k": "v"})
        @dlt.expect("positive", "x > 0")
        @dlt.expect_all_or_drop({"a": "a IS NOT NULL", "b": "b IS NOT NULL"})
        def orders():
            raise AssertionError("query functions must not run while registering")

        dlt.create_streaming_table("events", expect_all_or_fail={"id": "id IS NOT NULL"})

        @dlt.append_flow(target="events", once=True)
        def backfill():
            raise AssertionError("never called")

    graph = registry.graph()
    orders_dataset = graph.dataset("main.sales.orders")
    assert orders_dataset.kind is DatasetKind.TABLE
    assert orders_dataset.expectations == (
        Expectation("positive", "x > 0", "warn"),
        Expectation("a", "a IS NOT NULL", "drop"),
        Expectation("b", "b IS NOT NULL", "drop"),
    )
    assert graph.dataset("main.sales.events").expectations == (
        Expectation("id", "id IS NOT NULL", "fail"),
    )
    (flow,) = graph.flows_into("main.sales.events")
    assert (flow.name, flow.once) == ("backfill", True)
    with pytest.raises(AttributeError):
        orders_dataset.name = "other"  # type: ignore[misc]


def test_registering_outside_a_pipeline_load_is_a_clear_error():
    with pytest.raises(GraphError, match="only be registered while the engine loads"):

        @dlt.table
        def orders():
            return None


def test_bind_table_references_replaces_tables_but_not_ctes(spark):
    read_names: list[str] = []

    def read(name, streaming):
        read_names.append(name)
        return spark.createDataFrame([(1,)], "id INT")

    views: dict[str, DataFrame] = {}
    sql = bind_table_references(
        "WITH recent AS (SELECT * FROM main.sales.orders) SELECT * FROM recent JOIN LIVE.customers c ON true",
        read,
        views,
    )
    assert sorted(read_names) == ["`LIVE`.`customers`", "`main`.`sales`.`orders`"]
    assert "main.sales.orders" not in sql and "recent" in sql and len(views) == 2
    result = sql_over_views(spark, sql, views)
    assert_df_equality(result, spark.createDataFrame([(1, 1)], "id INT, id INT"))
    assert not any(table.isTemporary for table in spark.catalog.listTables())  # none left


def test_sequence_order_sorts_struct_sequences_as_spark_does(spark):
    values = [(2, None), (1, 5), (None, 3), (1, None), (2, 1), (None, None)]
    frame = spark.createDataFrame([((a, b),) for a, b in values], "seq STRUCT<day: INT, n: INT>")
    by_spark = [row.seq.asDict() for row in frame.orderBy("seq").collect()]
    by_driver = sorted(frame.toArrow().column("seq").to_pylist(), key=sequence_order)
    assert by_driver == by_spark

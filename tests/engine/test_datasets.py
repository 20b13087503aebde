"""Dataset kinds and their options behave as Databricks documents them."""

from __future__ import annotations

from chispa import assert_df_equality
from delta.tables import DeltaTable

from lakehouse.engine.graph.names import TableName
from tests.conftest import ORDERS

STREAM_ORDERS = """
    import dlt
    from pyspark import pipelines as dp
    from pyspark.sql import functions as F

    def landing():
        return (spark.readStream.format("json")
                .schema("id INT, amount DOUBLE, country STRING")
                .load(spark.conf.get("landing")))
"""

# The landing files as a streaming table, for tests about what happens around it.
ORDERS_PIPELINE = (
    STREAM_ORDERS
    + """
    @dlt.table
    def orders():
        return landing()
    """
)

# The same, dropping orders without an id.
CHECKED_ORDERS_PIPELINE = (
    STREAM_ORDERS
    + """
    @dlt.table
    @dlt.expect_or_drop("has_id", "id IS NOT NULL")
    def orders():
        return landing()
    """
)


def test_table_with_streaming_query_is_a_streaming_table_and_batch_query_a_materialized_view(
    workspace,
):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    def orders():
        return landing()

    @dlt.table
    def totals():
        return spark.read.table("orders").groupBy("country").agg(F.sum("amount").alias("total"))
    """
    )
    workspace.land("a.json", ORDERS)
    result = workspace.run()
    assert result.datasets == {
        "main.sales.orders": "streaming_table",
        "main.sales.totals": "materialized_view",
    }
    assert workspace.table("orders").count() == 4
    assert {r["country"]: r["total"] for r in workspace.table("totals").collect()} == {
        "NL": 5.0,
        "DE": 20.0,
        "FR": 7.0,
    }


def test_materialized_view_is_recomputed_from_its_inputs_on_every_update(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dp.table
    def orders():
        return landing()

    @dp.materialized_view
    def order_count():
        return spark.read.table("orders").agg(F.count("*").alias("n"))
    """
    )
    workspace.land("a.json", ORDERS[:2])
    workspace.run()
    workspace.land("b.json", ORDERS[2:])
    result = workspace.run()
    assert workspace.table("order_count").collect()[0]["n"] == 4
    assert result.rows_written("orders") == 2  # the streaming table took only the new file
    assert result.rows_written("order_count") == 1


def test_view_is_computed_where_read_and_never_published(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.view
    def dutch_orders():
        return landing().where("country = 'NL'")

    @dp.temporary_view
    def big_orders():
        return spark.read.table("orders_nl").where("amount > 0")

    @dlt.table
    def orders_nl():
        return dlt.read_stream("dutch_orders")

    @dlt.table
    def positive_nl():
        return dlt.read("big_orders")
    """
    )
    workspace.land("a.json", ORDERS)
    result = workspace.run()
    assert set(result.datasets) == {
        "dutch_orders",
        "big_orders",
        "main.sales.orders_nl",
        "main.sales.positive_nl",
    }
    assert workspace.table("positive_nl").collect()[0]["id"] == 1
    catalog_tables = {str(t) for t in workspace.storage.joinpath("catalog").glob("*/*/*")}
    assert not any(t.endswith(("dutch_orders", "big_orders")) for t in catalog_tables)


def test_streaming_table_takes_rows_from_every_append_flow(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    dlt.create_streaming_table("all_orders", comment="Orders from every channel")

    @dlt.append_flow(target="all_orders")
    def web():
        return landing().where("country = 'NL'").withColumn("channel", F.lit("web"))

    @dp.append_flow(target="all_orders", name="shop_flow")
    def shop():
        return landing().where("country <> 'NL'").withColumn("channel", F.lit("shop"))
    """
    )
    workspace.land("a.json", ORDERS)
    result = workspace.run()
    assert [(f.flow, f.num_output_rows) for f in result.flows] == [("web", 2), ("shop_flow", 2)]
    channels = {r["channel"] for r in workspace.table("all_orders").collect()}
    assert channels == {"web", "shop"}


def test_once_flow_runs_a_single_time_and_again_after_full_refresh(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    dlt.create_streaming_table("orders")

    @dlt.append_flow(target="orders")
    def live_orders():
        return landing()

    @dlt.append_flow(target="orders", once=True)
    def backfill():
        return spark.createDataFrame([(100, 1.0, "BE")], "id INT, amount DOUBLE, country STRING")
    """
    )
    workspace.land("a.json", ORDERS[:1])
    workspace.run()
    second = workspace.run()
    assert [f.skipped for f in second.flows] == [False, True]
    assert sorted(r["id"] for r in workspace.table("orders").collect()) == [1, 100]
    workspace.run(full_refresh=True)
    assert sorted(r["id"] for r in workspace.table("orders").collect()) == [1, 100]


def test_comment_properties_partitioning_and_clustering_reach_the_delta_table(workspace, spark):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table(
        comment="Orders by country",
        table_properties={"quality": "bronze", "delta.appendOnly": "true"},
        partition_cols=["country"],
    )
    def orders():
        return landing()

    @dp.materialized_view(cluster_by=["country"])
    def clustered():
        return spark.read.table("orders")
    """
    )
    workspace.land("a.json", ORDERS)
    workspace.run()
    path = workspace.storage / "catalog/main/sales/orders"
    detail = DeltaTable.forPath(spark, str(path)).detail().collect()[0]
    assert detail["description"] == "Orders by country"
    assert detail["properties"]["quality"] == "bronze"
    assert detail["properties"]["delta.appendOnly"] == "true"
    assert detail["partitionColumns"] == ["country"]
    clustered = DeltaTable.forPath(spark, str(path.parent / "clustered")).detail().collect()[0]
    assert clustered["clusteringColumns"] == ["country"]


def test_explicit_schema_as_ddl_or_struct_type_defines_the_table(workspace, spark):
    workspace.source(
        STREAM_ORDERS
        + """
    from pyspark.sql.types import StructType, StructField, LongType

    @dlt.table(schema="id INT NOT NULL COMMENT 'order id', amount DOUBLE, country STRING")
    @dlt.expect_or_drop("has_id", "id IS NOT NULL")
    def orders():
        return landing()

    @dp.materialized_view(schema=StructType([StructField("n", LongType(), False)]))
    def order_count():
        return spark.read.table("orders").selectExpr("count(*) AS n")
    """
    )
    workspace.land("a.json", ORDERS)
    workspace.run()
    schema = workspace.table("orders").schema
    assert schema["id"].nullable is False
    assert schema["id"].metadata.get("comment") == "order id"
    assert workspace.table("order_count").collect()[0]["n"] == 3


def test_private_table_is_stored_but_not_published_to_the_catalog(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dp.table(private=True)
    def staged():
        return landing()

    @dlt.table(temporary=True)
    def staged_legacy():
        return landing()

    @dp.materialized_view
    def order_count():
        return spark.read.table("staged").selectExpr("count(*) AS n")
    """
    )
    workspace.land("a.json", ORDERS)
    workspace.run()
    assert workspace.table("order_count").collect()[0]["n"] == 4
    assert not (workspace.storage / "catalog/main/sales/staged").exists()
    assert not (workspace.storage / "catalog/main/sales/staged_legacy").exists()


def test_three_level_names_in_two_catalogs_never_collide(workspace, spark):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table(name="dev.sales.orders")
    def dev_orders():
        return landing().where("country = 'NL'")

    @dlt.table(name="prod.sales.orders")
    def prod_orders():
        return landing()
    """
    )
    workspace.land("a.json", ORDERS)
    workspace.run()
    assert workspace.table("dev.sales.orders").count() == 2
    assert workspace.table("prod.sales.orders").count() == 4
    expected = workspace.sql("SELECT * FROM prod.sales.orders WHERE country = 'NL'")
    assert_df_equality(workspace.table("dev.sales.orders"), expected, ignore_row_order=True)
    assert TableName.parse("dev.sales.orders", "main", "x") != TableName.parse(
        "prod.sales.orders", "main", "x"
    )

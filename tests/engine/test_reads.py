"""Every documented way to read a dataset resolves to the pipeline's data."""

from __future__ import annotations

import re

import pytest

from lakehouse.engine import PipelineError
from tests.conftest import ORDERS
from tests.engine.test_datasets import STREAM_ORDERS


def test_every_read_spelling_reaches_the_same_dataset(workspace):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    def orders():
        return landing()

    @dlt.table
    def by_dlt_read():
        return dlt.read("orders")

    @dlt.table
    def by_short_name():
        return spark.read.table("orders")

    @dlt.table
    def by_qualified_name():
        return spark.read.table("main.sales.orders")

    @dlt.table
    def by_live_prefix():
        return spark.table("LIVE.orders")

    @dlt.table
    def by_sql():
        return spark.sql("SELECT o.* FROM orders o JOIN LIVE.orders p ON o.id = p.id")

    @dlt.table
    def by_read_stream():
        return dlt.read_stream("orders")

    @dlt.table
    def by_read_stream_table():
        return spark.readStream.table("sales.orders")

    @dlt.table
    def by_sql_stream():  # Databricks SQL: STREAM(), a JSON path, a :: cast
        return spark.sql(
            "SELECT id, to_json(named_struct('c', country)):c::STRING AS country "
            "FROM stream(LIVE.orders) WHERE id IS NOT NULL"
        )
    """
    )
    workspace.land("a.json", ORDERS)
    result = workspace.run()
    for name in ("by_dlt_read", "by_short_name", "by_qualified_name", "by_live_prefix"):
        assert result.datasets[f"main.sales.{name}"] == "materialized_view"
        assert workspace.table(name).count() == 4, name
    assert workspace.table("by_sql").count() == 3  # the join drops the null id
    assert result.datasets["main.sales.by_read_stream"] == "streaming_table"
    assert workspace.table("by_read_stream_table").count() == 4
    assert result.datasets["main.sales.by_sql_stream"] == "streaming_table"
    assert workspace.rows("by_sql_stream", "id")[0] == {"id": 1, "country": "NL"}


def test_tables_outside_the_pipeline_are_read_from_the_local_catalog(workspace, spark):
    spark.createDataFrame(
        [("NL", "Netherlands"), ("DE", "Germany")], "code STRING, name STRING"
    ).write.format("delta").save(str(workspace.storage / "catalog/ref/geo/countries"))
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    def orders_with_country():
        countries = spark.read.table("ref.geo.countries")
        orders = landing()
        return orders.join(countries, orders.country == countries.code, "left")
    """
    )
    workspace.land("a.json", ORDERS)
    workspace.run()
    names = {r["id"]: r["name"] for r in workspace.table("orders_with_country").collect()}
    assert names[1] == "Netherlands" and names[2] == "Germany"


def test_spark_conf_get_returns_the_pipeline_configuration_on_a_unity_catalog_runtime(workspace):
    workspace.source(
        """
    import dlt

    threshold = spark.conf.get("min_amount")

    @dlt.table
    def settings():
        return spark.createDataFrame(
            [(threshold, spark.conf.get("missing", "fallback"),
              spark.conf.get("spark.databricks.unityCatalog.enabled", "false"))],
            "threshold STRING, other STRING, unity_catalog STRING",
        )
    """
    )
    workspace.run(configuration={"min_amount": "15"})
    row = workspace.table("settings").collect()[0]
    assert (row["threshold"], row["other"], row["unity_catalog"]) == ("15", "fallback", "true")


def test_files_in_a_folder_load_as_one_pipeline_and_can_import_helpers(workspace):
    workspace.source("def double(column):\n    return column * 2\n", name="helpers.py")
    workspace.source(
        STREAM_ORDERS
        + """
    from helpers import double

    @dlt.table
    def orders():
        return landing().withColumn("twice", double(F.col("amount")))
    """,
        name="orders.py",
    )
    (workspace.src / "gold").mkdir()
    workspace.source(
        """
    from pyspark import pipelines as dp

    @dp.materialized_view
    def twice_total():
        return spark.read.table("orders").selectExpr("sum(twice) AS total")
    """,
        name="gold/totals.py",
    )
    workspace.land("a.json", ORDERS)
    workspace.run()
    assert workspace.table("twice_total").collect()[0]["total"] == 64.0


def test_sql_leaves_no_temporary_views_behind(workspace, spark):
    workspace.source(
        STREAM_ORDERS
        + """
    @dlt.table
    def orders():
        return landing()

    @dlt.table
    def dutch():
        return spark.sql("SELECT * FROM orders WHERE country = 'NL'")
    """
    )
    workspace.land("a.json", ORDERS)
    workspace.run()
    assert workspace.sql("SELECT count(*) AS n FROM dutch").collect()[0]["n"] == 2
    with pytest.raises(PipelineError):  # bound to a view before the unknown table fails
        workspace.sql("SELECT * FROM dutch JOIN no_such_table USING (id)")
    assert not [t for t in spark.catalog.listTables() if t.name.startswith("__lakehouse")]


@pytest.mark.parametrize(
    ("env", "read"),
    [
        ("test", 'spark.read.table("dev_sandpit.churn_ideas.notes")'),
        ("prod", 'spark.sql("SELECT * FROM dev_sandpit.churn_ideas.notes")'),
    ],
)
def test_a_test_or_prod_pipeline_refuses_to_read_a_sandpit(workspace, spark, env, read):
    spark.createDataFrame([(1, "idea")], "id INT, note STRING").write.format("delta").save(
        str(workspace.storage / "catalog/dev_sandpit/churn_ideas/notes")
    )
    workspace.source(
        """
    import dlt

    @dlt.table
    def promoted():
        return READ
    """.replace("READ", read)
    )
    with pytest.raises(PipelineError) as raised:
        workspace.run(configuration={"lakehouse.env": env})
    message = str(raised.value)
    assert "dev_sandpit.churn_ideas.notes" in message and "sandpit" in message
    assert f"lakehouse.env is {env}" in message and "pipeline.py:6" in message
    assert not (workspace.storage / "catalog/main/sales/promoted").exists()
    if env == "test":  # a development pipeline may read it: that is what a sandpit is for
        workspace.run(configuration={"lakehouse.env": "dev"})
        assert workspace.table("promoted").count() == 1


def test_an_unknown_lakehouse_env_is_a_configuration_error(workspace):
    workspace.source("import dlt\n\n@dlt.table\ndef t():\n    return spark.range(1)\n")
    expected = "'lakehouse.env': expected one of dev, test, prod, got 'production'"
    with pytest.raises(PipelineError, match=re.escape(expected)):
        workspace.run(configuration={"lakehouse.env": "production"})

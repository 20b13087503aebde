"""What a table declares is what it stores, and `lakehouse sql` shows it: generated and
identity columns filled by Delta, the comment, properties and partitioning told by DESCRIBE,
SHOW TBLPROPERTIES, SHOW CREATE TABLE and DESCRIBE HISTORY on three-level names."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.engine.errors import GraphError

# The Python reference's own example of a schema with a generated column.
PYTHON_SALES = '''
import dlt

@dlt.table(
  comment="Raw data on sales",
  schema="""
    customer_id STRING,
    customer_name STRING,
    number_of_line_items STRING,
    order_datetime STRING,
    order_number LONG,
    order_day_of_week STRING GENERATED ALWAYS AS (dayofweek(order_datetime))
    """,
  cluster_by = ["order_day_of_week", "customer_id"])
def sales():
    return spark.read.format("json").load(spark.conf.get("landing"))
'''

SQL_ORDERS = """
CREATE OR REFRESH STREAMING TABLE orders (
  order_id BIGINT GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 10),
  customer_id STRING COMMENT 'who ordered',
  order_datetime STRING,
  order_date DATE GENERATED ALWAYS AS (CAST(order_datetime AS DATE))
)
COMMENT 'Orders, numbered'
PARTITIONED BY (order_date)
TBLPROPERTIES ('quality' = 'silver')
AS SELECT customer_id, order_datetime FROM STREAM(sales_stream);

CREATE TEMPORARY VIEW sales_stream AS
SELECT * FROM STREAM read_files('${landing}', format => 'json');
"""

SALES = [
    {"customer_id": "c1", "customer_name": "Ann", "number_of_line_items": "2",
     "order_datetime": "2026-12-05 10:00:00", "order_number": 1},
    {"customer_id": "c2", "customer_name": "Bob", "number_of_line_items": "1",
     "order_datetime": "2026-12-06 11:00:00", "order_number": 2},
]  # fmt: skip


@pytest.fixture(scope="module")
def stored(tmp_path_factory, spark):
    from tests.conftest import PipelineWorkspace

    workspace = PipelineWorkspace(tmp_path_factory.mktemp("definitions"), spark)
    workspace.source(PYTHON_SALES, name="sales.py")
    workspace.source(SQL_ORDERS, name="orders.sql")
    workspace.land("a.json", SALES)
    workspace.run()
    return workspace


def test_generated_and_identity_columns_are_filled_by_delta(stored):
    assert stored.rows("sales", "order_number")[0]["order_day_of_week"] == "7"  # a Saturday
    assert stored.rows("orders", "order_id") == [
        {"order_id": 100, "customer_id": "c1", "order_datetime": "2026-12-05 10:00:00",
         "order_date": __import__("datetime").date(2026, 12, 5)},
        {"order_id": 110, "customer_id": "c2", "order_datetime": "2026-12-06 11:00:00",
         "order_date": __import__("datetime").date(2026, 12, 6)},
    ]  # fmt: skip


def test_show_create_table_writes_the_table_as_declared(stored):
    (statement,) = stored.sql("SHOW CREATE TABLE main.sales.orders").first()
    assert statement == (
        "CREATE TABLE main.sales.orders (\n"
        "  order_id BIGINT GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 10),\n"
        "  customer_id STRING COMMENT 'who ordered',\n"
        "  order_datetime STRING,\n"
        "  order_date DATE GENERATED ALWAYS AS (CAST(order_datetime AS DATE))\n"
        ")\nUSING delta\nPARTITIONED BY (order_date)\nCOMMENT 'Orders, numbered'\n"
        "TBLPROPERTIES (\n  'quality' = 'silver')\n"
    )
    (sales,) = stored.sql("SHOW CREATE TABLE sales").first()
    # Delta needs the expression's type to be the column's: the engine casts it.
    assert (
        "order_day_of_week STRING GENERATED ALWAYS AS "
        "(CAST((dayofweek(order_datetime)) AS string))" in sales
    )
    assert "CLUSTER BY (order_day_of_week, customer_id)" in sales


def test_describe_and_show_tblproperties_name_the_table_its_comment_and_properties(stored):
    properties = dict(stored.sql("SHOW TBLPROPERTIES main.sales.orders").collect())
    assert properties["quality"] == "silver"
    assert (
        stored.sql("SHOW TBLPROPERTIES main.sales.orders ('quality')").collect()[0][1] == "silver"
    )
    described = {
        r[0]: r[1] for r in stored.sql("DESCRIBE TABLE EXTENDED main.sales.orders").collect()
    }
    assert (described["Catalog"], described["Database"], described["Table"]) == (
        "main",
        "sales",
        "orders",
    )
    assert described["Comment"] == "Orders, numbered"
    assert "# Partition Information" in described
    history = stored.sql("DESCRIBE HISTORY main.sales.orders").collect()
    assert [r["operation"] for r in history][-1] == "CREATE TABLE"
    detail = stored.sql("DESCRIBE DETAIL main.sales.orders").first()
    assert (detail["name"], detail["partitionColumns"]) == ("main.sales.orders", ["order_date"])


def test_lakehouse_sql_shows_metadata_and_names_a_missing_table(stored):
    runner = CliRunner()
    shown = runner.invoke(app, ["sql", "--storage", str(stored.storage), "--format", "json",
                                "SHOW TBLPROPERTIES main.sales.orders"])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert '{"key": "quality", "value": "silver"}' in shown.output
    missing = runner.invoke(app, ["sql", "--storage", str(stored.storage),
                                  "DESCRIBE HISTORY main.sales.nope"])  # fmt: skip
    assert missing.exit_code == 1
    assert "table 'main.sales.nope' does not exist" in missing.output
    with pytest.raises(GraphError, match="does not exist"):
        stored.sql("SHOW CREATE TABLE main.other.orders")

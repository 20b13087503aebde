"""Sales gold, from the CRM's silver tables: revenue per day and currency, and one row per
current customer with their orders.

Plain Lakeflow pipeline code: it runs unchanged on Databricks and on the local engine. The
pipeline configuration's ``lakehouse.env`` (default ``dev``) says which silver catalog to read,
and ``lakehouse.schemaPrefix`` a developer's own schemas in a development deployment.
"""

from pyspark import pipelines as dp
from pyspark.sql import functions as F

ENV = spark.conf.get("lakehouse.env", "dev")
SCHEMA_PREFIX = spark.conf.get("lakehouse.schemaPrefix", "")  # a developer's own, in dev
SILVER = f"{ENV}_silver.{SCHEMA_PREFIX}crm"


@dp.materialized_view(
    comment="Revenue and order count per order day and currency.",
    table_properties={"lakehouse.classification": "general"},
)
def daily_revenue():
    return (
        spark.read.table(f"{SILVER}.orders")
        .groupBy(F.to_date("ordered_at").alias("order_date"), "currency")
        .agg(F.sum("amount").alias("revenue"), F.count("*").alias("orders"))
    )


@dp.materialized_view(
    comment="Every current customer with their segment, country and order history.",
    # The change data feed lets the churn scoring job score only the customers that changed.
    table_properties={
        "lakehouse.classification": "confidential",
        "delta.enableChangeDataFeed": "true",
    },
)
def customer_360():
    versions = spark.read.table(f"{SILVER}.customers")
    since = versions.groupBy("customer_id").agg(F.min("__START_AT").alias("customer_since"))
    orders = (
        spark.read.table(f"{SILVER}.orders")
        .groupBy("customer_id")
        .agg(
            F.count("*").alias("orders"),
            F.min("ordered_at").alias("first_ordered_at"),
            F.max("ordered_at").alias("last_ordered_at"),
        )
    )
    return (
        versions.where("__END_AT IS NULL")
        .select("customer_id", "name", "email", "country", "segment")
        .join(since, "customer_id")
        .join(orders, "customer_id", "left")
        .fillna(0, ["orders"])
    )

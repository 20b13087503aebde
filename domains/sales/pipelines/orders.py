"""Sales orders: landing JSON -> bronze streaming table -> gold daily revenue.

Plain Lakeflow pipeline code: it runs unchanged on Databricks and on the local engine.
The landing folder comes from the pipeline configuration key ``sales.landing_path``.
"""

import dlt
from pyspark import pipelines as dp
from pyspark.sql import functions as F

ORDER_SCHEMA = (
    "order_id STRING, customer_id STRING, order_ts TIMESTAMP, amount DECIMAL(12,2), currency STRING"
)


@dlt.view(comment="Order files as they land.")
def orders_landing():
    return (
        spark.readStream.format("json")
        .schema(ORDER_SCHEMA)
        .load(spark.conf.get("sales.landing_path"))
    )


@dlt.table(comment="Orders as received, with data-quality checks.")
@dlt.expect_or_drop("valid_order_id", "order_id IS NOT NULL")
@dlt.expect("positive_amount", "amount > 0")
@dlt.expect("known_currency", "currency IN ('EUR', 'USD', 'GBP')")
def orders_bronze():
    return dlt.read_stream("orders_landing").withColumn("ingested_at", F.current_timestamp())


@dp.materialized_view(comment="Revenue per day and currency, from valid orders.")
def daily_revenue():
    return (
        spark.read.table("orders_bronze")
        .where("amount > 0")
        .groupBy(F.to_date("order_ts").alias("order_date"), "currency")
        .agg(F.sum("amount").alias("revenue"), F.count("*").alias("orders"))
    )

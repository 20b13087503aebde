"""The multi-hop pipeline without expectations, written against ``pyspark.pipelines`` only, so
that open-source ``spark-pipelines run`` and this project's engine run the very same file."""

from pyspark import pipelines as dp
from pyspark.sql import functions as F

SCHEMA = "event_id BIGINT, customer_id BIGINT, amount DOUBLE, country STRING, event_ts TIMESTAMP"


@dp.table
def bronze_events():
    return (
        spark.readStream.format("json")
        .schema(SCHEMA)
        .load(spark.conf.get("benchmark.source"))
        .where("event_id IS NOT NULL")
    )


@dp.table
def silver_events():
    return (
        spark.readStream.table("bronze_events")
        .withColumn("amount_cents", (F.col("amount") * 100).cast("long"))
        .withColumn("event_date", F.to_date("event_ts"))
    )


@dp.materialized_view
def gold_daily_country():
    return (
        spark.read.table("silver_events")
        .groupBy("event_date", "country")
        .agg(F.sum("amount_cents").alias("amount_cents"), F.count("*").alias("events"))
    )

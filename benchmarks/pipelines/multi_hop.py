"""The benchmark pipeline: JSON files -> bronze (three expectations) -> silver -> gold MV.

``benchmark.expectations`` = "false" runs the same hops without expectations;
``benchmark.reader`` = "cloudFiles" reads the files with Auto Loader, as ``multi_hop.sql``'s
``STREAM read_files`` does (default: Spark's own file stream, as the hand-written job does).
"""

import dlt
from pyspark.sql import functions as F

SCHEMA = "event_id BIGINT, customer_id BIGINT, amount DOUBLE, country STRING, event_ts TIMESTAMP"
WITH_EXPECTATIONS = spark.conf.get("benchmark.expectations", "true") == "true"
EXPECTATIONS = {"valid_id": "event_id IS NOT NULL", "known_country": "country IS NOT NULL"}


def _bronze():
    if spark.conf.get("benchmark.reader", "json") == "cloudFiles":
        files = spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
    else:
        files = spark.readStream.format("json")
    return files.schema(SCHEMA).load(spark.conf.get("benchmark.source"))


if WITH_EXPECTATIONS:

    @dlt.table
    @dlt.expect_or_drop("valid_id", EXPECTATIONS["valid_id"])
    @dlt.expect("positive_amount", "amount > 0")
    @dlt.expect("known_country", EXPECTATIONS["known_country"])
    def bronze_events():
        return _bronze()

else:

    @dlt.table
    def bronze_events():
        return _bronze()


@dlt.table
def silver_events():
    return (
        spark.readStream.table("bronze_events")
        .withColumn("amount_cents", (F.col("amount") * 100).cast("long"))
        .withColumn("event_date", F.to_date("event_ts"))
    )


@dlt.table
def gold_daily_country():
    return (
        spark.read.table("silver_events")
        .groupBy("event_date", "country")
        .agg(F.sum("amount_cents").alias("amount_cents"), F.count("*").alias("events"))
    )

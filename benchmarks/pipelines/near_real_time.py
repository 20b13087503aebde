"""The latency benchmark pipeline: landed JSON files -> bronze (Auto Loader) -> silver (AUTO CDC
SCD2) -> gold."""

import dlt
from pyspark.sql import functions as F

SCHEMA = "key BIGINT, name STRING, file_no BIGINT, seq BIGINT"


@dlt.table
def bronze_changes():
    return (
        spark.readStream.format("cloudFiles")
        .option("cloudFiles.format", "json")
        .schema(SCHEMA)
        .load(spark.conf.get("benchmark.landing"))
    )


dlt.create_streaming_table("silver_customers")
dlt.create_auto_cdc_flow(
    target="silver_customers",
    source="bronze_changes",
    keys=["key"],
    sequence_by="seq",
    stored_as_scd_type=2,
)


@dlt.table
def gold_freshness():
    current = spark.read.table("silver_customers").where("__END_AT IS NULL")
    return current.agg(F.max("file_no").alias("newest_file"), F.count("*").alias("customers"))

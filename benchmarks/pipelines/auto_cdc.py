"""The AUTO CDC benchmark pipeline: change events (Parquet) -> SCD1 and SCD2 targets."""

import dlt

SCHEMA = "key BIGINT, name STRING, city STRING, op STRING, seq BIGINT"


@dlt.view
def changes():
    return (
        spark.readStream.format("parquet").schema(SCHEMA).load(spark.conf.get("benchmark.source"))
    )


for scd_type in (1, 2):
    dlt.create_streaming_table(f"customers_scd{scd_type}")
    dlt.create_auto_cdc_flow(
        target=f"customers_scd{scd_type}",
        source="changes",
        keys=["key"],
        sequence_by="seq",
        apply_as_deletes="op = 'D'",
        except_column_list=["op", "seq"],
        stored_as_scd_type=scd_type,
    )

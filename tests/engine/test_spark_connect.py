"""What the engine reads differently as a Spark Connect client: a plan's size from its cost
explain, observed metrics from their JSON form. The demo through a real Connect server is the
slow test in ``test_scale_out.py``."""

from __future__ import annotations

from pyspark.sql import Row

from lakehouse.engine.spark_connect import observed_row, size_in_cost_explain
from lakehouse.engine.storage.driver_writes import estimated_bytes


def test_the_size_in_a_cost_explain_is_the_size_the_driver_estimates(spark, tmp_path):
    spark.range(20_000).selectExpr("id", "cast(id AS STRING) AS name").write.format("delta").save(
        str(tmp_path / "t")
    )
    for frame in (
        spark.read.format("delta").load(str(tmp_path / "t")),
        spark.read.format("delta").load(str(tmp_path / "t")).select("id").where("id > 5"),
        spark.range(3),
    ):
        explained = spark._jvm.PythonSQLUtils.explainString(frame._jdf.queryExecution(), "cost")
        driver = estimated_bytes(frame)
        assert abs(size_in_cost_explain(explained) - driver) <= driver * 0.001 + 1, explained


def test_a_cost_explain_without_statistics_reads_as_too_large_for_the_driver():
    assert size_in_cost_explain("== Physical Plan ==\nScan") >= 2**62


def test_an_observed_row_in_its_connect_form_is_named_by_its_schema():
    schema = {"type": "struct", "fields": [{"name": "input_records"}, {"name": "dropped_records"}]}
    connect_form = Row(values=[10, None], schema=schema)
    assert observed_row(connect_form) == {"input_records": 10, "dropped_records": None}
    assert observed_row(Row(rows=3)) == {"rows": 3}

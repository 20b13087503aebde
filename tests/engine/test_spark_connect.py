"""What the engine reads differently as a Spark Connect client: a plan's size from its cost
explain, observed metrics from their JSON form; and, through a real Connect server (slow), what
the demo does not reach: MERGE by Spark and a table that needs a table feature. The demo
through a Connect server is the slow test in ``test_scale_out.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql import Row

from lakehouse.engine.spark_connect import observed_row, size_in_cost_explain
from lakehouse.engine.storage.driver_writes import estimated_bytes
from lakehouse.testing import connect_server


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


# AUTO CDC merged by Spark (every batch over the driver's limit) into SCD type 2, and a
# clustered table (a table feature: created with SQL by a Connect client), over two updates.
PIPELINE = """
import dlt
from pyspark.sql import functions as F

@dlt.view
def changes():
    return spark.readStream.format("delta").load(spark.conf.get("changes"))

dlt.create_streaming_table("users")
dlt.create_auto_cdc_flow(
    target="users", source="changes", keys=["id"], sequence_by=F.col("seq"),
    apply_as_deletes=F.expr("op = 'DELETE'"), except_column_list=["op", "seq"],
    stored_as_scd_type=2,
)

@dlt.table(cluster_by=["city"])
def users_by_city():
    return spark.read.table("users").where("__END_AT IS NULL").groupBy("city").count()
"""
BATCHES = [
    [(1, "Oaxaca", "INSERT", 1), (2, "Monterrey", "INSERT", 1), (3, "Tijuana", "INSERT", 2)],
    [(2, None, "DELETE", 3), (3, "Cancun", "UPDATE", 4), (4, "Oaxaca", "INSERT", 4)],
]
RUN_UPDATES = """
import sys
import pyarrow as pa
from deltalake import write_deltalake
from lakehouse.engine import run_pipeline

storage, pipeline, changes, batches = sys.argv[1], sys.argv[2], sys.argv[3], eval(sys.argv[4])
for batch in batches:
    ids, cities, ops, seqs = zip(*batch)
    write_deltalake(changes, pa.table({"id": pa.array(ids, pa.int32()), "city": list(cities),
                                       "op": list(ops), "seq": pa.array(seqs, pa.int32())}),
                    mode="append")
    run_pipeline([pipeline], storage=storage, schema="crm",
                 configuration={"changes": changes, "lakehouse.driverWrite.maxBatchBytes": "0"})
"""


@pytest.mark.slow  # a Connect server and two pipeline runs: about a minute
def test_spark_merges_and_feature_tables_through_spark_connect_match_a_local_run(tmp_path, spark):
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "users.py").write_text(PIPELINE)
    script = tmp_path / "run_updates.py"
    script.write_text(RUN_UPDATES)

    def run(name: str, **environment: str) -> Path:
        env = {**os.environ, "PYSPARK_PYTHON": sys.executable, **environment}
        done = subprocess.run(
            [sys.executable, str(script), str(tmp_path / name), str(tmp_path / "pipeline"),
             str(tmp_path / f"{name}-changes"), repr(BATCHES)],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return tmp_path / name / "catalog" / "main" / "crm"

    local = run("local")
    with connect_server(tmp_path / "connect") as server:
        remote = run("connect", LAKEHOUSE_SPARK_REMOTE=server.remote)
        assert server.log_tail(100_000).count("ForeachBatch worker Completed batch") >= 2
    for table in ("users", "users_by_city"):
        expected = spark.read.format("delta").load(str(local / table))
        assert_df_equality(
            spark.read.format("delta").load(str(remote / table)), expected, ignore_row_order=True
        )
    assert spark.read.format("delta").load(str(remote / "users")).count() == 5  # SCD2 history
    history = DeltaTable.forPath(spark, str(remote / "users")).history().collect()
    assert {"MERGE"} <= {row.operation for row in history}  # merged by Spark, not delta-rs
    detail = DeltaTable.forPath(spark, str(remote / "users_by_city")).detail().first()
    assert detail.clusteringColumns == ["city"]
    assert _cdc_counts(spark, remote) == _cdc_counts(spark, local)


def _cdc_counts(spark, schema_folder: Path) -> list[tuple[str, str]]:
    log = spark.read.format("delta").load(str(schema_folder / "event_log"))
    return sorted(
        (row.rows, row.deleted)
        for row in log.where("event_type = 'flow_progress'")
        .selectExpr(
            "get_json_object(details, '$.flow_progress.metrics.num_output_rows') AS rows",
            "get_json_object(details, '$.flow_progress.metrics.num_deleted_rows') AS deleted",
            "get_json_object(details, '$.flow_progress.status') AS status",
        )
        .where("status = 'COMPLETED' AND deleted IS NOT NULL")
        .collect()
    )


def test_the_environment_has_what_a_spark_connect_client_needs():
    """pyspark[connect] (grpcio, protobuf, ...) is in the locked environment, so a fresh clone
    can set LAKEHOUSE_SPARK_REMOTE; pyspark's own check, which raises naming what is missing."""
    from pyspark.sql.connect.utils import check_dependencies

    check_dependencies()

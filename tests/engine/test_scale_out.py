"""The engine away from its own process gives the tables a local run gives: the demo run by a
driver whose tasks run in a Spark standalone cluster's executors (a master and two workers on
127.0.0.1), and the demo run as the client of a Spark Connect server, both started from
pyspark's own scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from chispa import assert_df_equality
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.ingestion.bronze import INGESTED_AT, RECORD_ID
from lakehouse.testing import connect_server, standalone_cluster

LAKEHOUSE = str(Path(sys.executable).parent / "lakehouse")
# When and as what a row was ingested, when a file was landed and audited: the run's own;
# everything else is the data's.
RUN_TIME_COLUMNS = [INGESTED_AT, RECORD_ID, "modified_at", "audited_at"]


def _tables(storage: Path) -> list[Path]:
    """Every table of every domain and source system, event logs aside (they hold run ids)."""
    return sorted(
        table.relative_to(storage)
        for table in (storage / "catalog").glob("*/*/*")
        if (table / "_delta_log").is_dir() and table.name != "event_log"
    )


def _local_demo(storage: Path, batches: int = 1) -> Path:
    """``batches`` demo runs (the first fresh, then incremental) in this process into
    ``storage``, then moved aside: the other run uses the same path, so bronze keeps the same
    files' paths."""
    for batch in range(batches):
        fresh = ["--fresh"] if batch == 0 else []
        local = CliRunner().invoke(app, ["demo", "--storage", str(storage), *fresh, "--no-score"])
        assert local.exit_code == 0, local.output
    return storage.rename(storage.with_name("local"))


def _demo(storage: Path, *, fresh: bool = True, **environment: str) -> subprocess.CompletedProcess[str]:  # fmt: skip
    env = {**os.environ, "LAKEHOUSE_ENGINE": "cold", "PYSPARK_PYTHON": sys.executable,
           "SPARK_LOCAL_IP": "127.0.0.1", **environment}  # fmt: skip
    return subprocess.run(
        [LAKEHOUSE, "demo", "--storage", str(storage), *(["--fresh"] if fresh else []), "--no-score"],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def _assert_same_tables(spark, expected_storage: Path, actual_storage: Path) -> None:
    tables = _tables(expected_storage)
    assert len(tables) > 10 and _tables(actual_storage) == tables
    for table in tables:
        expected = spark.read.format("delta").load(str(expected_storage / table))
        actual = spark.read.format("delta").load(str(actual_storage / table))
        drop = [c for c in RUN_TIME_COLUMNS if c in expected.columns]
        assert_df_equality(
            actual.drop(*drop), expected.drop(*drop), ignore_row_order=True, ignore_nullable=True
        )
    shutil.rmtree(expected_storage)


@pytest.mark.slow  # two demo runs and a cluster: about 3 minutes
def test_the_demo_on_a_standalone_cluster_gives_the_tables_of_a_local_run(tmp_path, spark):
    storage = tmp_path / "storage"
    local_storage = _local_demo(storage)
    with standalone_cluster(tmp_path / "cluster", workers=2) as cluster:
        on_cluster = _demo(storage, LAKEHOUSE_SPARK_MASTER=cluster.master)
        assert on_cluster.returncode == 0, on_cluster.stdout + on_cluster.stderr
        # The executors ran tasks: each worker's folder holds its application's executor.
        executors = list((tmp_path / "cluster").glob("work-*/app-*/*/stderr"))
        assert len(executors) >= 2, cluster.log_tail()
    _assert_same_tables(spark, local_storage, storage)


@pytest.mark.slow  # four demo runs and a Connect server: about 4 minutes
def test_the_demo_through_spark_connect_gives_the_tables_of_a_local_run(tmp_path, spark):
    storage = tmp_path / "storage"
    local_storage = _local_demo(storage, batches=2)  # a fresh run, then an incremental one
    with connect_server(tmp_path / "connect") as server:
        for batch in range(2):
            through_connect = _demo(storage, fresh=batch == 0, LAKEHOUSE_SPARK_REMOTE=server.remote)
            assert through_connect.returncode == 0, (
                through_connect.stdout + through_connect.stderr + server.log_tail()
            )
        # The server ran the streaming tables' foreachBatch functions in its Python workers.
        assert server.log_tail(100_000).count("ForeachBatch worker Completed batch") >= 5
    # What each flow wrote, AUTO CDC's counts among them: those come from the foreachBatch
    # functions the server's Python workers ran.
    assert _flow_output_rows(spark, storage) == _flow_output_rows(spark, local_storage)
    _assert_same_tables(spark, local_storage, storage)


def _flow_output_rows(spark, storage: Path) -> list[tuple[str, str, str]]:
    """(flow, rows written, change events) of every completed flow in the event logs."""
    logs = [
        spark.read.format("delta").load(str(log))
        for log in (storage / "catalog").glob("*/*/event_log")
    ]
    assert logs
    rows = [
        (row.flow, row.rows, row.events)
        for log in logs
        for row in log.where("event_type = 'flow_progress'")
        .selectExpr(
            "origin.flow_name AS flow",
            "get_json_object(details, '$.flow_progress.metrics.num_output_rows') AS rows",
            "get_json_object(details, '$.flow_progress.metrics.num_change_events') AS events",
            "get_json_object(details, '$.flow_progress.status') AS status",
        )
        .where("status = 'COMPLETED'")
        .collect()
    ]
    assert any(events is not None for _, _, events in rows)  # AUTO CDC flows among them
    return sorted(rows)

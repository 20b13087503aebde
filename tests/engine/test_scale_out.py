"""The engine on a cluster: the demo run by a driver whose tasks run in a Spark standalone
cluster's executors (a master and two workers on 127.0.0.1, started from pyspark's own
scripts) gives the tables a local run gives."""

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
from lakehouse.testing import standalone_cluster

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


@pytest.mark.slow  # two demo runs and a cluster: about 3 minutes
def test_the_demo_on_a_standalone_cluster_gives_the_tables_of_a_local_run(tmp_path, spark):
    storage = tmp_path / "storage"  # both runs use this path: bronze keeps its files' paths
    local = CliRunner().invoke(app, ["demo", "--storage", str(storage), "--fresh", "--no-score"])
    assert local.exit_code == 0, local.output
    local_storage = storage.rename(tmp_path / "local")

    with standalone_cluster(tmp_path / "cluster", workers=2) as cluster:
        env = {**os.environ, "LAKEHOUSE_ENGINE": "cold", "LAKEHOUSE_SPARK_MASTER": cluster.master,
               "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}  # fmt: skip
        on_cluster = subprocess.run(
            [LAKEHOUSE, "demo", "--storage", str(storage), "--fresh", "--no-score"],
            env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert on_cluster.returncode == 0, on_cluster.stdout + on_cluster.stderr
        # The executors ran tasks: each worker's folder holds its application's executor.
        executors = list((tmp_path / "cluster").glob("work-*/app-*/*/stderr"))
        assert len(executors) >= 2, cluster.log_tail()

    tables = _tables(local_storage)
    assert len(tables) > 10 and _tables(storage) == tables
    for table in tables:
        expected = spark.read.format("delta").load(str(local_storage / table))
        actual = spark.read.format("delta").load(str(storage / table))
        drop = [c for c in RUN_TIME_COLUMNS if c in expected.columns]
        assert_df_equality(
            actual.drop(*drop), expected.drop(*drop), ignore_row_order=True, ignore_nullable=True
        )
    shutil.rmtree(local_storage)

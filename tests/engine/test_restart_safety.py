"""Restart safety: updates killed (SIGKILL) at random moments, then run again, end with exactly
the tables of one uninterrupted update: no lost rows, no duplicates, the same SCD2 history.
The killed updates are fresh processes, so they also show that Spark starts quietly: the
terminal holds the engine's lines only."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chispa import assert_df_equality

from lakehouse.engine import run_pipeline, sql

PIPELINE = """
import dlt

SCHEMA = "id INT, name STRING, city STRING, op STRING, seq INT"

@dlt.table
def raw_changes():
    return (spark.readStream.format("json").schema(SCHEMA).option("maxFilesPerTrigger", 1)
            .load(spark.conf.get("landing")))

@dlt.view
def changes():  # one landed file per micro-batch, so a kill can land between batches
    return spark.readStream.option("maxFilesPerTrigger", 1).table("raw_changes")

for scd_type in (1, 2):
    dlt.create_streaming_table(f"people_scd{scd_type}")
    dlt.apply_changes(
        target=f"people_scd{scd_type}", source="changes", keys=["id"], sequence_by="seq",
        apply_as_deletes="op = 'D'", except_column_list=["op", "seq"],
        stored_as_scd_type=scd_type,
    )

@dlt.table
def people_by_city():
    return spark.read.table("people_scd1").groupBy("city").count()
"""

TABLES = ("raw_changes", "people_scd1", "people_scd2", "people_by_city")


def _land_changes(landing: Path, seed: int, files: int = 4, per_file: int = 12) -> None:
    """Inserts, updates (some arriving late) and deletes of 10 people over several files."""
    rng = random.Random(seed)
    sequences = rng.sample(range(1, 10 * files * per_file), files * per_file)
    landing.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        lines = []
        for seq in sequences[f * per_file : (f + 1) * per_file]:
            op = rng.choice("IUUUD")
            name, city = (None, None) if op == "D" else (rng.choice("ABC"), rng.choice("XYZ"))
            lines.append(
                f'{{"id": {rng.randrange(10)}, "name": {_json(name)}, "city": {_json(city)}, '
                f'"op": "{op}", "seq": {seq}}}'
            )
        (landing / f"{f:03d}.json").write_text("\n".join(lines) + "\n")


def _json(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


def _killed_update(command: list[str], rng: random.Random, max_delay: float) -> list[str]:
    """Start an update, SIGKILL it (JVM included) a random moment after its first flow
    started. Returns what it printed on the terminal until then."""
    process = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        env={k: v for k, v in os.environ.items() if k != "LAKEHOUSE_SPARK_LOG_LEVEL"},
    )
    assert process.stderr is not None
    printed = []
    for line in process.stderr:
        printed.append(line.rstrip("\n"))
        if "starting" in line and "update" not in line:
            break
    time.sleep(rng.uniform(0, max_delay))
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return printed


def _check_restarts(tmp_path: Path, spark, kills: int, seed: int) -> None:
    source = tmp_path / "pipeline.py"
    source.write_text(PIPELINE)
    landing = tmp_path / "landing"
    _land_changes(landing, seed)
    options = {"name": "people", "schema": "crm", "configuration": {"landing": str(landing)}}
    run_pipeline([source], storage=tmp_path / "uninterrupted", spark=spark, **options)

    killed = tmp_path / "killed"
    command = [
        str(Path(sys.executable).parent / "lakehouse"), "pipeline", "run", str(source),
        "--storage", str(killed), "--name", "people", "--schema", "crm",
        "--conf", f"landing={landing}",
    ]  # fmt: skip
    rng = random.Random(seed)
    for _ in range(kills):
        printed = _killed_update(command, rng, max_delay=12.0)
        # Spark starts quietly: no JVM, log4j or Ivy line before the engine's own.
        assert printed == ["pipeline people: starting update", "   starting  main.crm.raw_changes"]
    run_pipeline([source], storage=killed, spark=spark, **options)

    for table in TABLES:
        expected = sql(tmp_path / "uninterrupted", f"SELECT * FROM main.crm.{table}", spark=spark)
        actual = sql(killed, f"SELECT * FROM main.crm.{table}", spark=spark)
        assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# Slow: each killed update is a fresh process with a Spark of its own (about 25 s for one kill),
# and the default run keeps to the one Spark session; `./dev test -m slow` runs these.
@pytest.mark.slow
def test_an_update_killed_at_a_random_moment_ends_with_the_tables_of_an_uninterrupted_one(
    tmp_path, spark
):
    _check_restarts(tmp_path, spark, kills=1, seed=11)  # many kills: the test below


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_many_kills_at_random_moments_change_nothing(tmp_path, spark, seed):
    _check_restarts(tmp_path, spark, kills=10, seed=seed)

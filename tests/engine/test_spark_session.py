"""The local Spark session starts quietly: Spark's own log stays off the terminal unless asked
for, so a user sees the engine's messages only."""

from __future__ import annotations

import os
import subprocess
import sys

START_AND_WRITE = (
    "import sys; from lakehouse.engine import get_spark; spark = get_spark('local[1]'); "
    "spark.range(3).write.format('delta').save(sys.argv[1]); print('written')"
)


def test_spark_starts_and_writes_without_log_lines_on_the_terminal(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LAKEHOUSE_SPARK_LOG_LEVEL"}
    run = subprocess.run(
        [sys.executable, "-c", START_AND_WRITE, str(tmp_path / "t")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "written"
    assert run.stderr.splitlines() == []  # not even the JVM's notice about incubator modules

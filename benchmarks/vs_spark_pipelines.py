"""The engine against open-source Spark Declarative Pipelines (`spark-pipelines run`, pyspark 4.2).

Both run the same pipeline file (``pipelines/multi_hop_sdp.py``: JSON -> bronze -> silver ->
materialized view, no expectations, which SDP does not have) over the same files, as whole
command-line processes, so JVM start is counted on both sides (the engine cold: no warm engine).
Both write Delta tables, with the same Spark configuration (the engine's own, `spark_options`,
and its log4j2.properties: Spark's log and console progress off on both sides); the two sides'
tables are compared equal. Target: engine / spark-pipelines <= 1.0.

Run with the benchmark dependency group (Spark Connect's client libraries):

    uv run python benchmarks/vs_spark_pipelines.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCHMARKS, describe, generate_events, median_ratio, spread_of_ratio, timed

from lakehouse.engine import get_spark
from lakehouse.engine.local_spark import cached_delta_jars, spark_conf_folder, spark_options
from lakehouse.engine.settings import SparkSettings

BIN = Path(sys.executable).parent


def spark_pipelines(source: Path, work: Path) -> None:
    project = work / "sdp"
    (project / "transformations").mkdir(parents=True)
    shutil.copy(BENCHMARKS / "pipelines" / "multi_hop_sdp.py", project / "transformations")
    warehouse = work / "warehouse"
    (project / "spark-pipeline.yml").write_text(
        "name: multi_hop\n"
        f"storage: file://{work / 'sdp_storage'}\n"
        "libraries:\n  - glob:\n      include: transformations/**\n"
        "configuration:\n"
        f"  benchmark.source: {source}\n"
        "  spark.sql.sources.default: delta\n"
    )
    # spark-pipelines starts its own Spark Connect server: configure it the way spark-submit
    # reads configuration, from spark-defaults.conf.
    conf_dir = work / "spark_conf"
    shutil.copytree(spark_conf_folder(), conf_dir)  # the engine's log4j2.properties
    jars = ":".join(str(j) for j in cached_delta_jars())
    options = {**spark_options(SparkSettings.from_environment()), "spark.sql.warehouse.dir": str(warehouse), "spark.driver.extraClassPath": jars}  # fmt: skip
    del options["spark.master"]  # spark-pipelines runs its own local server (--remote)
    (conf_dir / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in options.items()))
    _run(
        [str(BIN / "spark-pipelines"), "run", "--spec", str(project / "spark-pipeline.yml")],
        cwd=project,
        env={**os.environ, "SPARK_CONF_DIR": str(conf_dir)},
    )
    assert any(warehouse.rglob("_delta_log")), "spark-pipelines did not write Delta tables"


def _same_tables(engine_storage: Path, warehouse: Path) -> None:
    """Every table spark-pipelines wrote holds the rows the engine's table of that name holds."""
    spark = get_spark()
    written = [p.parent for p in warehouse.rglob("_delta_log")]
    assert written, "spark-pipelines wrote no table"
    for table in written:
        (ours,) = [p.parent for p in engine_storage.rglob("_delta_log") if p.parent.name == table.name]  # fmt: skip
        a, b = (spark.read.format("delta").load(str(t)) for t in (table, ours))
        assert a.exceptAll(b.select(*a.columns)).isEmpty() and a.count() == b.count(), table.name


def _run(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def engine(source: Path, work: Path) -> None:
    cold = {**os.environ, "LAKEHOUSE_ENGINE": "cold"}  # a whole process, as spark-pipelines is
    _run(
        [
            str(BIN / "lakehouse"),
            "pipeline",
            "run",
            str(BENCHMARKS / "pipelines" / "multi_hop_sdp.py"),
            "--storage",
            str(work / "engine_storage"),
            "--schema",
            "bench",
            "--conf",
            f"benchmark.source={source}",
        ],
        env=cold,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lakehouse-sdp-"))
    try:
        source = work / "source"
        generate_events(get_spark(), source, args.rows)
        get_spark().stop()  # no idle JVM beside the measured processes
        engine_times, sdp_times = [], []
        for i in range(args.repeats):
            engine_times.append(timed(lambda i=i: engine(source, work / f"e{i}")))
            sdp_times.append(timed(lambda i=i: spark_pipelines(source, work / f"s{i}")))
        _same_tables(work / "e0" / "engine_storage", work / "s0" / "warehouse")
        _, _, ratio = median_ratio(engine_times, sdp_times)
        print(f"vs spark-pipelines, {args.rows:,} rows, whole processes (tables compared equal):")
        print(f"  engine (lakehouse pipeline run)  {describe(engine_times)}")
        print(f"  spark-pipelines run              {describe(sdp_times)}")
        print(f"  ratio engine / spark-pipelines = {ratio:.3f} ({spread_of_ratio(engine_times, sdp_times)}; target <= 1.0)")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

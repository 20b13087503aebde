"""The engine against open-source Spark Declarative Pipelines (`spark-pipelines run`, pyspark 4.2).

Both run the same pipeline file (``pipelines/multi_hop_sdp.py``: JSON -> bronze -> silver ->
materialized view, no expectations, which SDP does not have) over the same files, as whole
command-line processes, so JVM start is counted on both sides. Both write Delta tables.
Target: engine / spark-pipelines <= 1.0.

Run with the benchmark dependency group (Spark Connect's client libraries):

    uv run --group benchmark python benchmarks/vs_spark_pipelines.py
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
from common import BENCHMARKS, generate_events, median_ratio, timed

from lakehouse.engine import get_spark
from lakehouse.engine.local_spark import cached_delta_jars

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
        "  spark.sql.shuffle.partitions: '4'\n"
    )
    # spark-pipelines starts its own Spark Connect server: configure it the way spark-submit
    # reads configuration, from spark-defaults.conf.
    conf_dir = work / "spark_conf"
    conf_dir.mkdir()
    jars = ":".join(str(j) for j in cached_delta_jars())
    (conf_dir / "spark-defaults.conf").write_text(
        f"spark.driver.extraClassPath {jars}\n"
        "spark.sql.extensions io.delta.sql.DeltaSparkSessionExtension\n"
        "spark.sql.catalog.spark_catalog org.apache.spark.sql.delta.catalog.DeltaCatalog\n"
        f"spark.sql.warehouse.dir {warehouse}\n"
        "spark.driver.memory 4g\n"
        "spark.ui.enabled false\n"
    )
    _run(
        [str(BIN / "spark-pipelines"), "run", "--spec", str(project / "spark-pipeline.yml")],
        cwd=project,
        env={**os.environ, "SPARK_CONF_DIR": str(conf_dir)},
    )
    assert any(warehouse.rglob("_delta_log")), "spark-pipelines did not write Delta tables"


def _run(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def engine(source: Path, work: Path) -> None:
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
        ]
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
        get_spark().stop()
        engine_times, sdp_times = [], []
        for i in range(args.repeats):
            engine_times.append(timed(lambda i=i: engine(source, work / f"e{i}")))
            sdp_times.append(timed(lambda i=i: spark_pipelines(source, work / f"s{i}")))
        e, s, ratio = median_ratio(engine_times, sdp_times)
        print(f"vs spark-pipelines, {args.rows:,} rows, whole processes, median of {args.repeats}:")
        print(
            f"  engine (lakehouse pipeline run)  {e:7.2f} s   runs {[round(t, 2) for t in engine_times]}"
        )
        print(
            f"  spark-pipelines run              {s:7.2f} s   runs {[round(t, 2) for t in sdp_times]}"
        )
        print(f"  ratio engine / spark-pipelines = {ratio:.3f}  (target <= 1.0)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Engine overhead: a 20-dataset pipeline over empty inputs, timed after Spark has started.

Target: the engine's time beyond Spark session start <= 10 s.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lakehouse.engine import get_spark, run_pipeline


def twenty_datasets(folder: Path, landing: Path) -> Path:
    """5 sources, each -> bronze streaming table -> silver streaming table -> gold MV (+ 5 views)."""
    code = ["import dlt", "from pyspark.sql import functions as F", ""]
    for i in range(5):
        code.append(
            textwrap.dedent(
                f"""
                @dlt.view(name="landing_{i}")
                def landing_{i}():
                    return spark.readStream.format("json").schema("id BIGINT, v DOUBLE").load("{landing / str(i)}")

                @dlt.table(name="bronze_{i}")
                @dlt.expect_or_drop("has_id", "id IS NOT NULL")
                def bronze_{i}():
                    return dlt.read_stream("landing_{i}")

                @dlt.table(name="silver_{i}")
                def silver_{i}():
                    return dlt.read_stream("bronze_{i}").withColumn("v2", F.col("v") * 2)

                @dlt.table(name="gold_{i}")
                def gold_{i}():
                    return dlt.read("silver_{i}").agg(F.count("*").alias("n"))
                """
            )
        )
        (landing / str(i)).mkdir(parents=True)
    path = folder / "twenty.py"
    path.write_text("\n".join(code))
    return path


def main() -> None:
    started = time.perf_counter()
    spark = get_spark()
    session_start = time.perf_counter() - started
    work = Path(tempfile.mkdtemp(prefix="lakehouse-startup-"))
    try:
        pipeline = twenty_datasets(work, work / "landing")
        first = time.perf_counter()
        run_pipeline([pipeline], storage=work / "storage", name="twenty", spark=spark)
        first = time.perf_counter() - first
        second = time.perf_counter()
        run_pipeline([pipeline], storage=work / "storage", name="twenty", spark=spark)
        second = time.perf_counter() - second
        print("20-dataset pipeline over empty inputs:")
        print(f"  Spark session start        {session_start:6.2f} s")
        print(f"  first update (creates)     {first:6.2f} s   (target <= 10 s)")
        print(f"  second update (no changes) {second:6.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

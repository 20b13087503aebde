"""Engine overhead: a 20-dataset pipeline over empty inputs, in a new JVM, after Spark started.

Five sources, each: a view over an empty landing folder -> bronze streaming table (with an
expectation) -> silver streaming table -> gold materialized view. The hand-written baseline
does what Spark + Delta must do for the same tables (check each source for files, create the
empty streaming tables, compute and write each materialized view) with plain PySpark, creating
the empty tables with delta-rs as the engine does (``storage/table_setup.py``). Each side runs
in its own new process, so both pay the JVM's warm-up.

Target: the engine's time beyond Spark session start <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import describe, median_ratio, spread_of_ratio

from lakehouse.engine import get_spark, run_pipeline
from lakehouse.engine.storage.delta_table import LocalDeltaTable


def twenty_datasets(folder: Path, landing: Path) -> Path:
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
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "twenty.py"
    path.write_text("\n".join(code))
    return path


def engine_side(work: Path) -> dict[str, float]:
    pipeline = twenty_datasets(work, work / "landing")
    first = time.perf_counter()
    run_pipeline([pipeline], storage=work / "storage", name="twenty")
    first = time.perf_counter() - first
    second = time.perf_counter()
    run_pipeline([pipeline], storage=work / "storage", name="twenty")
    second = time.perf_counter() - second
    # A new pipeline in a JVM that has run one before (a test process, a long-lived runner).
    other = twenty_datasets(work / "warm", work / "warm" / "landing")
    warm = time.perf_counter()
    run_pipeline([other], storage=work / "warm" / "storage", name="twenty")
    return {"first": first, "second": second, "warm_first": time.perf_counter() - warm}


def hand_written_side(work: Path) -> dict[str, float]:
    import deltalake
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    spark = get_spark()
    schema = StructType.fromDDL("id BIGINT, v DOUBLE")
    started = time.perf_counter()
    for i in range(5):
        (work / f"landing{i}").mkdir()
        source = spark.readStream.format("json").schema(schema).load(str(work / f"landing{i}"))
        source.where("id IS NOT NULL").writeStream.format("delta").option(
            "checkpointLocation", str(work / f"cp{i}")
        ).trigger(availableNow=True).start(str(work / f"bronze{i}")).awaitTermination()
        for name in (f"bronze{i}", f"silver{i}"):  # empty, with delta-rs, as the engine makes them
            deltalake.DeltaTable.create(str(work / name), deltalake.Schema.from_json(schema.json()), mode="ignore")  # fmt: skip
        spark.read.format("delta").load(str(work / f"silver{i}")).agg(
            F.count("*").alias("n")
        ).write.format("delta").mode("overwrite").save(str(work / f"gold{i}"))
    return {"first": time.perf_counter() - started}


def run_side(side: str) -> dict[str, Any]:
    started = time.perf_counter()
    get_spark()
    session = time.perf_counter() - started
    work = Path(tempfile.mkdtemp(prefix=f"lakehouse-startup-{side}-"))
    figures = engine_side(work) if side == "engine" else hand_written_side(work)
    gold = [work / "storage/catalog/main/default" / f"gold_{i}" if side == "engine" else work / f"gold{i}" for i in range(5)]  # fmt: skip
    # The gold each side wrote, for the comparison (read on one thread: see LocalDeltaTable).
    rows = [LocalDeltaTable(path).read_arrow(["n"]).to_pylist() for path in gold]
    return {"session": session, **figures, "gold": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--side", choices=["engine", "hand"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print("RESULT " + json.dumps(run_side(args.side)))
        return
    runs: dict[str, list[dict[str, Any]]] = {"engine": [], "hand": []}
    for _ in range(args.repeats):
        for side in runs:
            done = subprocess.run(
                [sys.executable, __file__, "--side", side],
                capture_output=True,
                text=True,
                check=True,
            )
            line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
            runs[side].append(json.loads(line.removeprefix("RESULT ")))
    golds = {json.dumps(r["gold"]) for side in runs for r in runs[side]}
    assert len(golds) == 1, f"the two sides' gold tables differ: {golds}"

    def figures(side: str, key: str) -> list[float]:
        return [r[key] for r in runs[side]]

    engine_first, hand_first = figures("engine", "first"), figures("hand", "first")
    print(f"20-dataset pipeline over empty inputs, new process each, {args.repeats} runs (gold compared equal):")  # fmt: skip
    print(f"  Spark session start (not counted)   {describe(figures('engine', 'session'))}")
    print(f"  engine, first update                {describe(engine_first)}   (target <= 10 s)")
    print(f"  engine, second update (no changes)  {describe(figures('engine', 'second'))}")
    print(f"  engine, first update in a warm JVM  {describe(figures('engine', 'warm_first'))}")
    print(f"  hand-written PySpark + Delta setup  {describe(hand_first)}")
    _, _, ratio = median_ratio(engine_first, hand_first)
    print(
        f"  ratio engine / hand-written = {ratio:.3f} ({spread_of_ratio(engine_first, hand_first)})"
    )


if __name__ == "__main__":
    main()

"""Multi-hop pipeline over 1M rows: the engine against a hand-written PySpark + Delta job, and
the same pipeline written in SQL against it written in Python.

Both sides read the same JSON files, drop rows without an id, stream bronze -> silver with
checkpoints, and recompute the gold aggregate. The engine also counts three expectations
(the hand-written job does not), so the ratio includes the cost of data-quality metrics.
Target: engine / hand-written <= 1.15.

The SQL pipeline (``pipelines/multi_hop.sql``) reads the files with ``STREAM read_files``,
which is Auto Loader, so it is compared with the Python pipeline reading them with Auto Loader
too. Target: SQL / Python <= 1.05. Every run's silver and gold tables are compared equal.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCHMARKS, describe, generate_events, median_ratio, spread_of_ratio, timed

from lakehouse.engine import get_spark, run_pipeline

SCHEMA = "event_id BIGINT, customer_id BIGINT, amount DOUBLE, country STRING, event_ts TIMESTAMP"


def hand_written(spark: SparkSession, source: Path, out: Path) -> None:
    """What a careful engineer writes by hand for the same three hops."""
    bronze, silver, gold = (str(out / name) for name in ("bronze", "silver", "gold"))
    (
        spark.readStream.format("json")
        .schema(SCHEMA)
        .load(str(source))
        .where("event_id IS NOT NULL")
        .writeStream.format("delta")
        .option("checkpointLocation", str(out / "_cp_bronze"))
        .trigger(availableNow=True)
        .start(bronze)
        .awaitTermination()
    )
    (
        spark.readStream.format("delta")
        .load(bronze)
        .withColumn("amount_cents", (F.col("amount") * 100).cast("long"))
        .withColumn("event_date", F.to_date("event_ts"))
        .writeStream.format("delta")
        .option("checkpointLocation", str(out / "_cp_silver"))
        .trigger(availableNow=True)
        .start(silver)
        .awaitTermination()
    )
    (
        spark.read.format("delta")
        .load(silver)
        .groupBy("event_date", "country")
        .agg(F.sum("amount_cents").alias("amount_cents"), F.count("*").alias("events"))
        .write.format("delta")
        .mode("overwrite")
        .save(gold)
    )


def engine(
    spark: SparkSession,
    source: Path,
    out: Path,
    expectations: bool = True,
    *,
    language: str = "python",
    reader: str = "json",
) -> None:
    """The benchmark pipeline through the engine: in Python (reading the files with Spark's
    own file stream, or with Auto Loader: ``reader="cloudFiles"``) or in SQL."""
    run_pipeline(
        [BENCHMARKS / "pipelines" / ("multi_hop.sql" if language == "sql" else "multi_hop.py")],
        storage=out,
        name="multi_hop",
        schema="bench",
        configuration={
            "benchmark.source": str(source),
            "benchmark.expectations": str(expectations).lower(),
            "benchmark.reader": reader,
        },
        spark=spark,
    )


def _same_rows(spark: SparkSession, left: Path, right: Path, columns: list[str]) -> None:
    a = spark.read.format("delta").load(str(left)).select(*columns)
    b = spark.read.format("delta").load(str(right)).select(*columns)
    assert a.count() == b.count() and a.exceptAll(b).isEmpty() and b.exceptAll(a).isEmpty(), (
        f"{left} and {right} differ"
    )


def one_size(
    spark: SparkSession, work: Path, rows: int, repeats: int, with_sql: bool = True
) -> tuple[float, float | None]:
    """Every side over ``rows`` rows, ``repeats`` times after a warm-up; prints the figures and
    returns the two ratios (engine / hand-written, SQL / Python: None ``without_sql``)."""
    source = work / "source"
    generate_events(spark, source, rows)
    runs = {
        "engine": lambda out: engine(spark, source, out),
        "hand": lambda out: hand_written(spark, source, out),
        "python": lambda out: engine(spark, source, out, reader="cloudFiles"),
        "sql": lambda out: engine(spark, source, out, language="sql"),
    }
    if not with_sql:
        runs = {name: runs[name] for name in ("engine", "hand")}
    for name, run in runs.items():  # warm-up: JIT, class loading, file listing caches
        run(work / f"warm_{name}")
    times: dict[str, list[float]] = {name: [] for name in runs}
    for i in range(repeats):  # interleaved, so that a slow moment hits every side
        for name, run in runs.items():
            times[name].append(timed(lambda run=run, i=i, name=name: run(work / f"{name}_{i}")))
    tables = str(work / "{}_0/catalog/main/bench/{}")
    gold = ["event_date", "country", "amount_cents", "events"]
    silver = spark.read.format("delta").load(str(work / "hand_0/silver")).columns
    _same_rows(spark, Path(tables.format("engine", "silver_events")), work / "hand_0/silver", silver)  # fmt: skip
    for name in [n for n in runs if n != "hand"]:
        _same_rows(spark, Path(tables.format(name, "gold_daily_country")), work / "hand_0/gold", gold)  # fmt: skip
    _, _, ratio = median_ratio(times["engine"], times["hand"])
    print(f"multi-hop, {rows:,} rows, {repeats} runs each (silver and gold compared equal):")
    print(f"  engine (Python)             {describe(times['engine'])}")
    print(f"  hand-written                {describe(times['hand'])}")
    print(f"  ratio engine / hand-written = {ratio:.3f} ({spread_of_ratio(times['engine'], times['hand'])}; target <= 1.15)", flush=True)  # fmt: skip
    if not with_sql:
        return ratio, None
    sql_silver = Path(tables.format("sql", "silver_events"))
    columns = spark.read.format("delta").load(str(sql_silver)).columns
    _same_rows(spark, sql_silver, Path(tables.format("python", "silver_events")), columns)
    _, _, sql_ratio = median_ratio(times["sql"], times["python"])
    print(f"  engine, Python, Auto Loader {describe(times['python'])}")
    print(f"  engine, SQL, read_files     {describe(times['sql'])}")
    print(f"  ratio SQL / Python = {sql_ratio:.3f} ({spread_of_ratio(times['sql'], times['python'])}; target <= 1.05)", flush=True)  # fmt: skip
    return ratio, sql_ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000],
                        help="one or more input sizes, e.g. --rows 100000 250000 1000000 4000000")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--without-sql", action="store_true",
                        help="only the engine and the hand-written job (no SQL / Python sides)")  # fmt: skip
    args = parser.parse_args()

    spark = get_spark()
    ratios = {}
    for rows in args.rows:
        work = Path(tempfile.mkdtemp(prefix="lakehouse-bench-"))
        try:
            ratios[rows] = one_size(spark, work, rows, args.repeats, not args.without_sql)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if len(ratios) > 1:
        print("engine / hand-written (<= 1.15) and SQL / Python (<= 1.05) by size:")
        for rows, (ratio, sql_ratio) in ratios.items():
            print(
                f"  {rows:>10,} rows  {ratio:.3f}  {'-' if sql_ratio is None else f'{sql_ratio:.3f}'}"
            )


if __name__ == "__main__":
    main()

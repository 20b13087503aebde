"""Multi-hop pipeline over 1M rows: the engine against a hand-written PySpark + Delta job.

Both sides read the same JSON files, drop rows without an id, stream bronze -> silver with
checkpoints, and recompute the gold aggregate. The engine also counts three expectations
(the hand-written job does not), so the ratio includes the cost of data-quality metrics.
Target: engine / hand-written <= 1.15.
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
from common import BENCHMARKS, generate_events, median_ratio, timed

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


def engine(spark: SparkSession, source: Path, out: Path, expectations: bool = True) -> None:
    run_pipeline(
        [BENCHMARKS / "pipelines" / "multi_hop.py"],
        storage=out,
        name="multi_hop",
        schema="bench",
        configuration={
            "benchmark.source": str(source),
            "benchmark.expectations": str(expectations).lower(),
        },
        spark=spark,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    spark = get_spark()
    work = Path(tempfile.mkdtemp(prefix="lakehouse-bench-"))
    try:
        source = work / "source"
        generate_events(spark, source, args.rows)
        # Warm-up: JIT, class loading and file listing caches for both sides.
        engine(spark, source, work / "warm_engine")
        hand_written(spark, source, work / "warm_hand")
        engine_times, hand_times = [], []
        for i in range(args.repeats):
            engine_times.append(timed(lambda i=i: engine(spark, source, work / f"engine_{i}")))
            hand_times.append(timed(lambda i=i: hand_written(spark, source, work / f"hand_{i}")))
        check = (
            spark.read.format("delta")
            .load(str(work / "engine_0/catalog/main/bench/silver_events"))
            .count()
        )
        expected = spark.read.format("delta").load(str(work / "hand_0/silver")).count()
        assert check == expected, f"engine wrote {check} silver rows, hand-written {expected}"
        e, h, ratio = median_ratio(engine_times, hand_times)
        print(f"multi-hop, {args.rows:,} rows, median of {args.repeats}:")
        print(f"  engine        {e:7.2f} s   runs {[round(t, 2) for t in engine_times]}")
        print(f"  hand-written  {h:7.2f} s   runs {[round(t, 2) for t in hand_times]}")
        print(f"  ratio engine / hand-written = {ratio:.3f}  (target <= 1.15)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

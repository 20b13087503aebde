"""AUTO CDC throughput: change events into SCD1 and SCD2 targets, against a hand-written
PySpark + Delta MERGE job that produces the same two tables, in the same Spark session.

Events: 75% inserts of distinct keys, 20% updates, 5% deletes, written in shuffled order so
files mix old and new sequences. Then an incremental run with 1% more events, timed against
the full run (median of as many runs as the full one, each adding 1% more events). Targets:
engine / hand-written <= 1.2; incremental <= 15% of the full run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCHMARKS, describe, median_ratio, spread_of_ratio, timed

from lakehouse.engine import get_spark, run_pipeline


def generate_changes(spark: SparkSession, folder: Path, events: int, first_seq: int = 0) -> None:
    inserts = int(events * 0.75)
    seq = F.col("id") + first_seq
    kind = F.when(F.col("id") < inserts, "I").when(F.col("id") % 4 == 0, "D").otherwise("U")
    key = F.when(kind == "I", seq).otherwise((seq * 7919) % (first_seq + inserts))
    (
        spark.range(events)
        .select(
            key.alias("key"),
            F.when(kind == "D", None).otherwise(F.concat(F.lit("name-"), seq % 1000)).alias("name"),
            F.when(kind == "D", None).otherwise(F.concat(F.lit("city-"), seq % 97)).alias("city"),
            kind.alias("op"),
            seq.alias("seq"),
        )
        .repartition(8, F.rand(seed=7))  # files mix old and new sequences
        .write.mode("append")
        .parquet(str(folder))
    )


def engine(spark: SparkSession, source: Path, out: Path) -> None:
    run_pipeline(
        [BENCHMARKS / "pipelines" / "auto_cdc.py"],
        storage=out,
        name="auto_cdc",
        schema="bench",
        configuration={"benchmark.source": str(source)},
        spark=spark,
    )


def _latest(events: DataFrame) -> DataFrame:
    newest = Window.partitionBy("key").orderBy(F.col("seq").desc())
    return events.withColumn("rank", F.row_number().over(newest)).where("rank = 1")


def _versions(events: DataFrame) -> DataFrame:
    in_order = Window.partitionBy("key").orderBy("seq")
    previous = F.lag("op").over(in_order)
    opens = (F.col("op") != "D") & (
        previous.isNull()
        | (previous == "D")
        | (F.lag("name").over(in_order) != F.col("name"))
        | (F.lag("city").over(in_order) != F.col("city"))
    )
    numbered = events.withColumn(
        "version", F.sum(opens.cast("int")).over(in_order.rowsBetween(Window.unboundedPreceding, 0))
    )
    versions = (
        numbered.where("version > 0")
        .groupBy("key", "version")
        .agg(
            F.min(F.when(F.col("op") != "D", F.col("seq"))).alias("__START_AT"),
            F.min(F.when(F.col("op") == "D", F.col("seq"))).alias("closed_at"),
            F.max_by(F.struct("name", "city"), F.when(F.col("op") != "D", F.col("seq"))).alias("v"),
        )
    )
    by_version = Window.partitionBy("key").orderBy("version")
    return versions.select(
        "key",
        "v.name",
        "v.city",
        "__START_AT",
        F.coalesce("closed_at", F.lead("__START_AT").over(by_version)).alias("__END_AT"),
    )


def hand_written(spark: SparkSession, source: Path, out: Path) -> None:
    """One batch job: the latest event per key merged into SCD1; versions merged into SCD2."""
    events = spark.read.parquet(str(source))
    scd1, scd2 = str(out / "scd1"), str(out / "scd2")
    for path, schema in (
        (scd1, "key BIGINT, name STRING, city STRING"),
        (scd2, "key BIGINT, name STRING, city STRING, __START_AT BIGINT, __END_AT BIGINT"),
    ):
        DeltaTable.createIfNotExists(spark).location(path).addColumns(
            StructType.fromDDL(schema)
        ).execute()
    DeltaTable.forPath(spark, scd1).alias("t").merge(
        _latest(events).alias("s"), "t.key = s.key"
    ).whenMatchedDelete("s.op = 'D'").whenMatchedUpdate(
        set={"name": "s.name", "city": "s.city"}
    ).whenNotMatchedInsert(
        "s.op != 'D'", {"key": "s.key", "name": "s.name", "city": "s.city"}
    ).execute()
    DeltaTable.forPath(spark, scd2).alias("t").merge(
        _versions(events).alias("s"), "t.key = s.key AND t.__START_AT = s.__START_AT"
    ).whenMatchedUpdateAll().whenNotMatchedInsertAll().execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    spark = get_spark()
    work = Path(tempfile.mkdtemp(prefix="lakehouse-bench-cdc-"))
    try:
        source = work / "source"
        generate_changes(spark, source, args.events)
        engine(spark, source, work / "warm_engine")  # JIT and class loading for both sides
        hand_written(spark, source, work / "warm_hand")
        engine_times, hand_times = [], []
        for i in range(args.repeats):
            engine_times.append(timed(lambda i=i: engine(spark, source, work / f"engine_{i}")))
            hand_times.append(timed(lambda i=i: hand_written(spark, source, work / f"hand_{i}")))
        for name in ("scd1", "scd2"):
            ours = spark.read.format("delta").load(
                str(work / f"engine_0/catalog/main/bench/customers_{name}")
            )
            theirs = spark.read.format("delta").load(str(work / f"hand_0/{name}"))
            assert ours.exceptAll(theirs).isEmpty() and theirs.exceptAll(ours).isEmpty(), name
        incremental_times = []
        for i in range(args.repeats):  # each run adds 1% of the first run's events
            step = args.events // 100
            generate_changes(spark, source, step, first_seq=args.events + i * step)
            incremental_times.append(timed(lambda: engine(spark, source, work / "engine_0")))
        incremental = statistics.median(incremental_times)
        e, _, ratio = median_ratio(engine_times, hand_times)
        print(f"AUTO CDC, {args.events:,} change events into SCD1 + SCD2 (tables compared equal):")
        print(f"  engine        {describe(engine_times)}")
        print(f"  hand-written  {describe(hand_times)}")
        print(f"  ratio engine / hand-written = {ratio:.3f} ({spread_of_ratio(engine_times, hand_times)}; target <= 1.2)")  # fmt: skip
        print(
            f"  incremental run, 1% new events: {describe(incremental_times)} = "
            f"{incremental / e:.1%} of the full run (target <= 15%)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Helpers shared by the benchmark scripts: data generation and timing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

BENCHMARKS = Path(__file__).resolve().parent


def generate_events(spark: SparkSession, folder: Path, rows: int, files: int = 8) -> None:
    """Deterministic JSON event files; about 1% null ids, 1% null countries, 5% negative amounts."""
    (
        spark.range(rows, numPartitions=files)
        .select(
            F.when(F.col("id") % 97 == 0, None).otherwise(F.col("id")).alias("event_id"),
            (F.col("id") % 10_000).alias("customer_id"),
            F.when(F.col("id") % 20 == 0, -1.0)
            .otherwise((F.col("id") % 1000) / 10.0)
            .alias("amount"),
            F.when(F.col("id") % 101 == 0, None)
            .otherwise(
                F.element_at(
                    F.array(*(F.lit(c) for c in ["NL", "DE", "FR", "BE"])),
                    (F.col("id") % 4 + 1).cast("int"),
                )
            )
            .alias("country"),
            (
                F.lit("2026-01-01").cast("timestamp")
                + F.make_interval(secs=F.col("id") % 2_592_000)
            ).alias("event_ts"),
        )
        .write.mode("overwrite")
        .json(str(folder))
    )


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_ratio(engine: list[float], baseline: list[float]) -> tuple[float, float, float]:
    e, b = statistics.median(engine), statistics.median(baseline)
    return e, b, e / b

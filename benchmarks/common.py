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


def describe(times: list[float]) -> str:
    """A figure as the benchmarks print it: the median, the spread and the number of runs.

    Example:
        >>> describe([1.0, 1.5, 1.2])
        'median 1.20 s (spread 1.00-1.50, 3 runs)'
    """
    return f"median {statistics.median(times):.2f} s (spread {min(times):.2f}-{max(times):.2f}, {len(times)} runs)"  # fmt: skip


def spread_of_ratio(engine: list[float], baseline: list[float]) -> str:
    """The range a ratio of two medians could take between the runs' extremes.

    Example:
        >>> spread_of_ratio([1.0, 1.2], [2.0, 2.4])
        'spread 0.417-0.600'
    """
    return f"spread {min(engine) / max(baseline):.3f}-{max(engine) / min(baseline):.3f}"

"""Batch scoring: a control-table row scoring 1M rows with an MLflow model, against a
hand-written job that applies the same model with ``mlflow.pyfunc.spark_udf`` and overwrites
the same output table, in the same Spark session. Then incremental runs after 1% of the input
rows changed, timed against the full run (a local run scores such a change on the driver:
``scoring/small_changes.py``). Both sides' predictions are compared equal, and after the
incremental runs the output equals a full scoring of the changed input.

Targets: engine / hand-written <= 1.1; an incremental run after 1% changed <= 10% of a full run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median_ratio, timed

from lakehouse.engine import get_spark
from lakehouse.scoring.batch_scoring import score_rows
from lakehouse.scoring.control_table import ControlRow, Mode
from lakehouse.scoring.local_run import local_identifiers
from lakehouse.scoring.model_store import experiment, use_model_store

MODEL, INPUT, OUTPUT = "dev_gold.bench.churn", "dev_gold.bench.customers", "dev_gold.bench.scores"
FEATURES = ("orders", "segment", "country")


def generate(spark: SparkSession, path: str, rows: int) -> None:
    (
        spark.range(rows, numPartitions=8)
        .select(
            F.col("id").alias("customer_id"),
            (F.col("id") * 7 % 23).alias("orders"),
            F.element_at(
                F.array(F.lit("retail"), F.lit("corporate"), F.lit("public")),
                (F.col("id") % 3 + 1).cast("int"),
            ).alias("segment"),
            F.element_at(
                F.array(*(F.lit(c) for c in ("NL", "DE", "FR", "BE"))),
                (F.col("id") % 4 + 1).cast("int"),
            ).alias("country"),
        )
        .write.format("delta")
        .option("delta.enableChangeDataFeed", "true")
        .save(path)
    )


def register(spark: SparkSession, path: str, storage: Path) -> None:
    import mlflow
    import sklearn
    from mlflow.models import infer_signature
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    sample = spark.read.format("delta").load(path).limit(5000).toPandas()
    features, label = sample[list(FEATURES)], (sample["orders"] < 8).astype(int)
    model = make_pipeline(
        ColumnTransformer(
            [("c", OneHotEncoder(handle_unknown="ignore"), ["segment", "country"])],
            remainder="passthrough",
        ),
        LogisticRegression(max_iter=1000),
    ).fit(features, label)
    with mlflow.start_run(experiment_id=experiment("/Shared/bench/churn", storage)):
        info = mlflow.sklearn.log_model(
            model, name="model", signature=infer_signature(features, model.predict(features)),
            registered_model_name=MODEL, pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        )  # fmt: skip
    mlflow.MlflowClient().set_registered_model_alias(
        MODEL, "champion", info.registered_model_version
    )


def hand_written(spark: SparkSession, source: str, target: str) -> None:
    """What a data engineer writes without the platform: the model at its alias, applied with
    spark_udf, the output overwritten."""
    import mlflow

    version = mlflow.MlflowClient().get_model_version_by_alias(MODEL, "champion").version
    udf = mlflow.pyfunc.spark_udf(spark, f"models:/{MODEL}/{version}", env_manager="local",
                                  result_type="double")  # fmt: skip
    (
        spark.read.format("delta").load(source)
        .select("customer_id", udf(*FEATURES).alias("prediction"))
        .withColumn("model_name", F.lit(MODEL))
        .withColumn("model_version", F.lit(version))
        .withColumn("scored_at", F.current_timestamp())
        .withColumn("scoring_run_id", F.lit(str(uuid.uuid4())))
        .write.format("delta").mode("overwrite").save(target)
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    spark = get_spark()
    root = Path(tempfile.mkdtemp(prefix="bench_scoring_"))
    storage = root / "storage"
    use_model_store(storage)
    identifier = local_identifiers(storage)
    source, target = (identifier(n)[len("delta.`") : -1] for n in (INPUT, OUTPUT))
    baseline_target = str(root / "hand_written")
    generate(spark, source, args.rows)
    register(spark, source, storage)

    def row(mode: Mode) -> ControlRow:
        return ControlRow(domain="bench", name="churn", file="", model=MODEL, alias="champion",
                          version=None, input_table=INPUT, keys=("customer_id",),
                          features=FEATURES, output_table=OUTPUT, schedule="0 0 6 * * ?",
                          timezone="UTC", mode=mode, enabled=True)  # fmt: skip

    def engine_full() -> None:
        shutil.rmtree(target, ignore_errors=True)  # no output yet: a full run
        (result,) = score_rows(spark, [row(Mode.FULL)], identifier)
        assert result.status == "scored" and result.scored_rows == args.rows, result

    engine_times, baseline_times = [], []
    for _ in range(args.repeats):  # alternating, so neither side gets the warmer JVM
        baseline_times.append(timed(lambda: hand_written(spark, source, baseline_target)))
        engine_times.append(timed(engine_full))
    ours = spark.read.format("delta").load(target).select("customer_id", "prediction")
    theirs = spark.read.format("delta").load(baseline_target).select("customer_id", "prediction")
    assert ours.exceptAll(theirs).count() == 0 and theirs.exceptAll(ours).count() == 0

    increments = []
    for i in range(args.repeats):
        DeltaTable.forPath(spark, source).update(
            F.col("customer_id") % 100 == i, {"orders": F.col("orders") + 1}
        )  # 1% of the rows change
        started = time.perf_counter()
        (result,) = score_rows(spark, [row(Mode.INCREMENTAL)], identifier)
        increments.append(time.perf_counter() - started)
        assert not result.full and result.scored_rows == args.rows // 100, result
    # The incremental runs leave what a full scoring of the changed input gives.
    hand_written(spark, source, baseline_target)
    ours = spark.read.format("delta").load(target).select("customer_id", "prediction")
    theirs = spark.read.format("delta").load(baseline_target).select("customer_id", "prediction")
    assert ours.exceptAll(theirs).count() == 0 and theirs.exceptAll(ours).count() == 0

    e, b, ratio = median_ratio(engine_times, baseline_times)
    spread = lambda xs: f"{min(xs):.2f}-{max(xs):.2f} s"  # noqa: E731
    print(f"full scoring of {args.rows:,} rows, median of {args.repeats}:")
    print(f"  engine        {e:.2f} s (spread {spread(engine_times)})")
    print(f"  hand-written  {b:.2f} s (spread {spread(baseline_times)})")
    print(f"  ratio         {ratio:.3f} (target <= 1.1)")
    incremental = statistics.median(increments)
    print(f"incremental after 1% changed: {incremental:.2f} s (spread {spread(increments)}), "
          f"{incremental / e:.1%} of the full run (target <= 10%)")  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

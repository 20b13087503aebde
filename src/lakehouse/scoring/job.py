"""The scoring job on Databricks (``lakehouse-scoring``, a python_wheel_task of each domain's
``<domain>_scoring_<model>`` job): the control table refreshed from the synced model files,
then the job's row scored with Unity Catalog's tables and models.

Example (what the job's task runs)::

    lakehouse-scoring --env prod --model customer_churn --root /Workspace/.../files
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lakehouse.scoring.batch_scoring import score_rows
from lakehouse.scoring.control_table import CONTROL_TABLE, control_table_frame
from lakehouse.scoring.local_run import selected_rows
from lakehouse.scoring.model_store import use_model_store


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="lakehouse-scoring",
        description="Score rows of the scoring control table with Unity Catalog's tables and "
        "models: the task of each domain's <domain>_scoring_<model> job.",
    )
    parser.add_argument("--env", required=True, choices=("dev", "test", "prod"))
    parser.add_argument("--model", help="The model file's name (all rows when omitted).")
    parser.add_argument("--root", type=Path, required=True, help="The synced bundle root.")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    every_row, rows = selected_rows(args.env, args.model, args.root / "domains")
    use_model_store(None)
    control_table_frame(spark, every_row).write.mode("overwrite").option(
        "overwriteSchema", "true"
    ).saveAsTable(CONTROL_TABLE.format(env=args.env))
    results = score_rows(spark, rows, lambda name: name)
    for result in results:
        print(f"{result.row.domain}/{result.row.name}: {result.status}, version "
              f"{result.model_version}, {result.scored_rows} scored, "
              f"{result.null_features} with a NULL feature, {result.deleted_rows} removed")  # fmt: skip
    failed = [r.error for r in results if r.error]
    if failed:
        sys.exit("\n".join(str(e) for e in failed))

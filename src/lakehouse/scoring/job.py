"""The scoring job on Databricks (``lakehouse-scoring``, a python_wheel_task of each domain's
``<domain>_scoring_<model>`` job): the control table refreshed from the synced model files,
then the job's row scored with Unity Catalog's tables and models.

Example (what the job's task runs)::

    lakehouse-scoring --env prod --model customer_churn --root /Workspace/.../files --schema-prefix=
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lakehouse.scoring.batch_scoring import score_control_table
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
    parser.add_argument(
        "--schema-prefix", default="",
        help="A developer's own schemas (the bundle's schema_prefix; empty outside development).",
    )  # fmt: skip
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    use_model_store(None)
    results = score_control_table(
        SparkSession.builder.getOrCreate(), args.env, lambda name: name,  # Unity Catalog names
        model=args.model, domains_root=args.root / "domains", schema_prefix=args.schema_prefix,
    )  # fmt: skip
    for result in results:
        print(f"{result.row.domain}/{result.row.name}: {result.status}, version "
              f"{result.model_version}, {result.scored_rows} scored, "
              f"{result.null_features} with a NULL feature, {result.deleted_rows} removed")  # fmt: skip
    failed = [r.error for r in results if r.error]
    if failed:
        sys.exit("\n".join(str(e) for e in failed))

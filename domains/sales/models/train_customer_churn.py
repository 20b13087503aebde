"""Train the sales domain's churn model from ``customer_360`` and register it as @champion.

A customer counts as churning when their last order is older than most customers' (or they
never ordered): a label the sample data always has both classes of. The model sees the
features the control row scores (``customer_churn.yml``): orders, segment and country.

Run it as a data scientist would, locally or in a Databricks notebook or job:

    uv run python domains/sales/models/train_customer_churn.py --storage .lakehouse
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

FEATURES = ["orders", "segment", "country"]
EXPERIMENT = "/Workspace/Shared/sales/customer_churn"


def train(spark: SparkSession, table: str, model_name: str, storage: Path | None) -> str:
    """Fit on ``table``, log the model with its signature, register it as ``model_name``
    and point @champion at the new version; returns the version.

    Example:
        >>> train(spark, "dev_gold.sales.customer_360", "dev_gold.sales.customer_churn", None)  # doctest: +SKIP
        '1'
    """
    import mlflow
    import sklearn
    from mlflow.models import infer_signature
    from pyspark.sql import functions as F
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from lakehouse.scoring.model_store import experiment

    customers = spark.read.table(table)
    median = customers.select(F.percentile_approx("last_ordered_at", 0.5)).first()[0]
    labelled = customers.withColumn(
        "churned", F.coalesce(F.col("last_ordered_at") < F.lit(median), F.lit(True)).cast("int")
    ).toPandas()
    features, label = labelled[FEATURES], labelled["churned"]
    model = make_pipeline(
        ColumnTransformer(
            [("categories", OneHotEncoder(handle_unknown="ignore"), ["segment", "country"])],
            remainder="passthrough",
        ),
        LogisticRegression(max_iter=1000),
    ).fit(features, label)
    with mlflow.start_run(experiment_id=experiment(EXPERIMENT, storage)):
        mlflow.log_metric("training_accuracy", float(model.score(features, label)))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(features, model.predict(features)),
            input_example=features.head(3),
            registered_model_name=model_name,
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        )
    version = str(info.registered_model_version)
    mlflow.MlflowClient().set_registered_model_alias(model_name, "champion", version)
    return version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", type=Path, default=Path(".lakehouse"))
    parser.add_argument("--env", default="dev")
    args = parser.parse_args()

    from lakehouse.engine import get_spark
    from lakehouse.scoring.local_run import local_identifiers
    from lakehouse.scoring.model_store import use_model_store

    use_model_store(args.storage)
    table = local_identifiers(args.storage)(f"{args.env}_gold.sales.customer_360")
    version = train(get_spark(), table, f"{args.env}_gold.sales.customer_churn", args.storage)
    print(f"registered {args.env}_gold.sales.customer_churn version {version} as @champion")


if __name__ == "__main__":
    main()

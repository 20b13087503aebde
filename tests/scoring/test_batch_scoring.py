"""Batch scoring from the control table with a real MLflow model: full, incremental over the
input's change data feed, idempotent reruns, a new model version behind the alias, and rows
that cannot be scored reported by name while the others run."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.scoring import small_changes
from lakehouse.scoring.batch_scoring import score_rows
from lakehouse.scoring.control_table import ControlRow, Mode
from lakehouse.scoring.model_store import experiment, use_model_store

MODEL = "dev_gold.sales.churn"
INPUT, OUTPUT = "dev_gold.sales.customers", "dev_gold.sales.churn_predictions"
DDL = "customer_id BIGINT, orders BIGINT, segment STRING"
CUSTOMERS = [(1, 0, "retail"), (2, 1, "retail"), (3, 9, "corporate"), (4, 7, "corporate"),
             (5, 2, "retail"), (6, None, "retail")]  # fmt: skip


def _row(**changes) -> ControlRow:
    values = dict(
        domain="sales", name="churn", file="domains/sales/models/churn.yml", model=MODEL,
        alias="champion", version=None, input_table=INPUT, keys=("customer_id",),
        features=("orders", "segment"), output_table=OUTPUT, schedule="0 0 6 * * ?",
        timezone="UTC", mode=Mode.INCREMENTAL, enabled=True,
    )  # fmt: skip
    return ControlRow(**{**values, **changes})


def _register(threshold: int, storage: Path) -> str:
    """A model that says churn (1.0) below ``threshold`` orders, registered as @champion."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    features = pd.DataFrame({"orders": [0, 1, 2, 5, 8, 9], "segment": ["retail"] * 6})
    model = make_pipeline(
        ColumnTransformer([("orders", "passthrough", ["orders"])]),
        LogisticRegression(C=1e6),
    ).fit(features, (features["orders"] < threshold).astype(int))
    with mlflow.start_run(experiment_id=experiment("/Shared/sales/churn", storage)):
        info = mlflow.sklearn.log_model(
            model, name="model", signature=infer_signature(features, model.predict(features)),
            registered_model_name=MODEL, pip_requirements=["scikit-learn"],
        )  # fmt: skip
    version = str(info.registered_model_version)
    mlflow.MlflowClient().set_registered_model_alias(MODEL, "champion", version)
    return version


@pytest.fixture
def scoring(tmp_path: Path, spark):
    storage = tmp_path / "storage"
    use_model_store(storage)
    catalog = LocalCatalog(storage)

    def identifier(name: str) -> str:
        return f"delta.`{catalog.table_path(TableName.parse(name, 'main', 'default'))}`"

    def write_input(rows: list[tuple], ddl: str = DDL) -> None:
        (
            spark.createDataFrame(rows, ddl)
            .write.format("delta").mode("overwrite")  # a materialized view's refresh
            .option("delta.enableChangeDataFeed", "true")
            .save(identifier(INPUT)[7:-1])
        )  # fmt: skip

    def predictions() -> dict[int, tuple]:
        rows = spark.read.table(identifier(OUTPUT)).collect()
        return {r["customer_id"]: (r["prediction"], r["model_version"]) for r in rows}

    return SimpleNamespace(
        identifier=identifier, write_input=write_input, predictions=predictions, storage=storage
    )


# About 40 s: three scoring passes, the first starting MLflow in Spark's Python workers. The
# default run checks rows that fail before scoring; these the slow run (./dev test -m slow).
@pytest.mark.slow
@pytest.mark.parametrize("changes_scored_by", ["driver", "spark"])
def test_scoring_is_full_then_incremental_idempotent_and_follows_the_alias(
    scoring, spark, monkeypatch, changes_scored_by
):
    if changes_scored_by == "spark":  # as a large change, or on Databricks
        monkeypatch.setattr(small_changes, "DRIVER_LIMIT", 0)
    identifier, write_input, predictions = (
        scoring.identifier,
        scoring.write_input,
        scoring.predictions,
    )
    first = _register(threshold=3, storage=scoring.storage)
    write_input(CUSTOMERS)

    (result,) = score_rows(spark, [_row()], identifier)
    assert (result.status, result.full, result.scored_rows, result.null_features) == (
        "scored", True, 5, 1,
    )  # fmt: skip
    assert predictions() == {1: (1.0, first), 2: (1.0, first), 3: (0.0, first),
                             4: (0.0, first), 5: (1.0, first), 6: (None, first)}  # fmt: skip
    run_id = spark.read.table(identifier(OUTPUT)).select("scoring_run_id").distinct().collect()
    # Described for the people who read it: as classified as its input (which does not say).
    detail = spark.sql(f"DESCRIBE DETAIL {identifier(OUTPUT)}").first()
    assert detail["properties"]["lakehouse.classification"] == "confidential"
    assert detail["description"].startswith(
        "Predictions of dev_gold.sales.churn@champion over dev_gold.sales.customers, one row per "
        "customer_id"
    )
    comments = {
        f.name: f.metadata.get("comment") for f in spark.read.table(identifier(OUTPUT)).schema
    }
    assert comments["prediction"] == "The model's output for this row; NULL when a feature is NULL."

    (rerun,) = score_rows(spark, [_row()], identifier)
    assert rerun.status == "up to date"

    # The input is rewritten whole, as a view refresh does: customer 3 now has 1 order,
    # customer 4 has none recorded, customer 5 is gone, customer 7 is new; the others come
    # back unchanged.
    write_input([c for c in CUSTOMERS if c[0] not in (3, 4, 5)] + [
        (3, 1, "corporate"), (4, None, "corporate"), (7, 0, "retail")])  # fmt: skip
    (incremental,) = score_rows(spark, [_row()], identifier)
    assert incremental.error is None, incremental.error
    assert (incremental.full, incremental.scored_rows, incremental.null_features,
            incremental.deleted_rows) == (False, 2, 1, 1)  # fmt: skip
    assert predictions() == {1: (1.0, first), 2: (1.0, first), 3: (1.0, first),
                             4: (None, first), 6: (None, first), 7: (1.0, first)}  # fmt: skip
    (rerun,) = score_rows(spark, [_row()], identifier)
    assert rerun.status == "up to date"  # the state is read back, whoever wrote it
    unchanged = spark.read.table(identifier(OUTPUT)).where("customer_id = 1")
    assert unchanged.select("scoring_run_id").collect() == run_id

    second = _register(
        threshold=1, storage=scoring.storage
    )  # a new champion: every row is scored again
    (rescored,) = score_rows(spark, [_row()], identifier)
    assert (rescored.full, rescored.model_version, rescored.scored_rows) == (True, second, 4)
    assert {v for _, v in predictions().values()} == {second}
    assert predictions()[2] == (0.0, second)


def test_a_row_that_cannot_be_scored_is_named_and_the_others_still_run(scoring, spark):
    _register(threshold=3, storage=scoring.storage)
    scoring.write_input(CUSTOMERS)
    rows = [
        _row(name="no_model", model="dev_gold.sales.missing"),
        _row(name="no_column", features=("orders", "region")),
        _row(name="wrong_features", features=("orders",)),
        _row(name="no_input", input_table="dev_gold.sales.nothing"),
        _row(name="pinned", alias=None, version=7),
        _row(name="disabled", enabled=False),
    ]
    results = {r.row.name: r for r in score_rows(spark, rows, scoring.identifier)}
    assert "disabled" not in results
    errors = {name: r.error for name, r in results.items() if r.status == "failed"}
    assert errors == {
        "no_model": "sales/no_model: model dev_gold.sales.missing has no alias @champion in "
        "the registry",
        "no_column": "sales/no_column: dev_gold.sales.customers has no column region (it has "
        "customer_id, orders, segment)",
        "wrong_features": "sales/wrong_features: features ['orders'] are not the inputs of "
        "model dev_gold.sales.churn version 1 (['orders', 'segment'])",
        "no_input": "sales/no_input: input table dev_gold.sales.nothing does not exist",
        "pinned": "sales/pinned: model dev_gold.sales.churn has no version 7 in the registry",
    }
    output = Path(scoring.identifier(OUTPUT)[len("delta.`") : -1])
    assert output.parent.name == "sales" and not output.exists()  # nothing half written


def test_a_feature_whose_type_does_not_match_the_signature_is_named(scoring, spark):
    _register(threshold=3, storage=scoring.storage)
    scoring.write_input(
        [(1, "many", "retail")], "customer_id BIGINT, orders STRING, segment STRING"
    )
    (result,) = score_rows(spark, [_row()], scoring.identifier)
    assert result.error == (
        "sales/churn: dev_gold.sales.customers does not match the signature of model "
        "dev_gold.sales.churn version 1: orders is string, the model wants long"
    )


@pytest.mark.slow  # the model fails in Spark's Python workers: about 10 s
def test_a_model_failing_on_the_input_is_reported_without_its_classified_values(scoring, spark):
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    class Refusing(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            raise ValueError(f"cannot score segment '{model_input['segment'].iloc[0]}'")

    features = pd.DataFrame({"orders": [1], "segment": ["retail"]})
    with mlflow.start_run(experiment_id=experiment("/Shared/sales/churn", scoring.storage)):
        info = mlflow.pyfunc.log_model(
            name="model", python_model=Refusing(), registered_model_name=MODEL,
            signature=infer_signature(features, pd.Series([1.0])),
        )  # fmt: skip
    mlflow.MlflowClient().set_registered_model_alias(MODEL, "champion", info.registered_model_version)  # fmt: skip
    scoring.write_input(CUSTOMERS)  # no classification said: confidential

    (result,) = score_rows(spark, [_row()], scoring.identifier)
    assert result.status == "failed" and result.error.startswith("sales/churn: ")
    assert "cannot score segment '<masked>'" in result.error
    assert "retail" not in result.error and "corporate" not in result.error

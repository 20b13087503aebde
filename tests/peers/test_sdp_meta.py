"""A peer's metadata-driven pipelines run unchanged: sdp-meta (databricks-labs-sdp-meta, which
dlt-meta wraps) onboards its own Auto Loader example (``cloudfiles-onboarding.template``, with
its expectations and silver transformations) into dataflow-spec tables, and its runner notebook
builds the bronze and the silver pipeline from them: Auto Loader with a DDL schema, rescued
data, file metadata, an append flow, expectations with a quarantine table, and AUTO CDC.

Slow (it installs sdp-meta from PyPI): ``./dev test -m slow tests/peers``.
"""

from __future__ import annotations

import json
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import databricks
import pytest

from lakehouse.engine import UpdateResult, run_pipeline, sql
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog

SDP_META_VERSION = "0.1.0"
CATALOG, BRONZE, SILVER, SPECS = "main", "bronze", "silver", "sdp_meta"

# The runner notebook sdp-meta's deploy command uploads (``SDP_META_RUNNER_NOTEBOOK``).
RUNNER = f"""# Databricks notebook source
# MAGIC %pip install databricks-labs-sdp-meta=={SDP_META_VERSION}

# COMMAND ----------
layer = spark.conf.get("layer", None)
from databricks.labs.sdp_meta.dataflow_pipeline import DataflowPipeline
DataflowPipeline.invoke_dlt_pipeline(spark, layer)
"""
CUSTOMERS_DDL = (
    "address STRING, email STRING, firstname STRING, id BIGINT, lastname STRING, "
    "operation_date TIMESTAMP, operation STRING"
)
TRANSACTIONS_DDL = (
    "id BIGINT, customer_id BIGINT, amount DOUBLE, item_count INT, "
    "operation_date TIMESTAMP, operation STRING"
)


@pytest.fixture(scope="module")
def sdp_meta(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdp-meta installed into a folder of its own. Without its dependencies: they serve its
    command line (databricks-sdk, setuptools); onboarding and the pipeline import only
    pyspark, delta and yaml, which the engine brings."""
    root = tmp_path_factory.mktemp("sdp_meta")
    done = subprocess.run(
        [sys.executable, "-m", "venv", root / "venv"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    site = root / "site"
    done = subprocess.run(
        [root / "venv/bin/pip", "install", "-q", "--no-deps", "--target", site,
         f"databricks-labs-sdp-meta=={SDP_META_VERSION}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return site


@pytest.fixture
def importable(sdp_meta: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``databricks.labs.sdp_meta`` importable next to the engine's own ``databricks.*``."""
    monkeypatch.syspath_prepend(str(sdp_meta))
    monkeypatch.setattr(
        databricks, "__path__", pkgutil.extend_path(databricks.__path__, "databricks")
    )


def _land(folder: Path, name: str, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(row) + "\n" for row in rows))


def _customer(i: int, operation: str = "APPEND", day: int = 1, email: str = "") -> dict:
    return {"id": i, "firstname": f"First{i}", "lastname": f"Last{i}", "address": f"{i} Road",
            "email": email or f"c{i}@example.org", "operation": operation,
            "operation_date": f"2024-01-{day:02d}T00:00:00"}  # fmt: skip


def _transaction(i: int, amount: object = 10.0) -> dict:
    return {"id": i, "customer_id": i, "amount": amount, "item_count": 1,
            "operation": "APPEND", "operation_date": "2024-01-01T00:00:00"}  # fmt: skip


def _onboard(spark, storage: Path, dbfs: Path, sdp_meta: Path) -> None:
    """sdp-meta's onboarding of its own example, with its placeholders filled in as its
    deploy command does. The spec tables are written by path (its non-UC mode) where the
    local catalog keeps ``main.sdp_meta.*``: its UC mode would need a metastore for
    ``saveAsTable``."""
    from databricks.labs.sdp_meta.onboard_dataflowspec import OnboardDataflowspec

    examples = sdp_meta / "databricks/labs/sdp_meta/_packaged_examples/json"
    shutil.copytree(examples, dbfs / "sdp-meta/conf")
    resources = dbfs / "sdp-meta/resources"
    (resources / "customers.ddl").write_text(CUSTOMERS_DDL)
    (resources / "transactions.ddl").write_text(TRANSACTIONS_DDL)
    template = (examples / "cloudfiles-onboarding.template").read_text()
    for placeholder, value in {"{dbfs_path}": str(dbfs), "{uc_catalog_name}": CATALOG,
                               "{bronze_schema}": BRONZE, "{silver_schema}": SILVER}.items():  # fmt: skip
        template = template.replace(placeholder, value)
    onboarding = dbfs / "onboarding.json"
    onboarding.write_text(template)
    catalog = LocalCatalog(storage)
    OnboardDataflowspec(
        spark,
        {
            "onboarding_file_path": str(onboarding),
            "database": SPECS,
            "env": "it",
            "bronze_dataflowspec_table": "bronze_dataflowspec",
            "bronze_dataflowspec_path": str(
                catalog.table_path(TableName(CATALOG, SPECS, "bronze_dataflowspec"))
            ),
            "silver_dataflowspec_table": "silver_dataflowspec",
            "silver_dataflowspec_path": str(
                catalog.table_path(TableName(CATALOG, SPECS, "silver_dataflowspec"))
            ),
            "overwrite": "True",
            "version": "v1",
            "import_author": "peer-test",
        },
        uc_enabled=False,
    ).onboard_dataflow_specs()


def _update(layer: str, runner: Path, storage: Path, spark) -> UpdateResult:
    """One update of the pipeline sdp-meta's bundle example declares for ``layer``."""
    return run_pipeline(
        [runner], storage=storage, name=f"sdp_meta_{layer}", catalog=CATALOG, schema=layer,
        configuration={"layer": layer, f"{layer}.group": "A1",
                       f"{layer}.dataflowspecTable": f"{CATALOG}.{SPECS}.{layer}_dataflowspec"},
        spark=spark,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.usefixtures("importable")
def test_sdp_metas_onboarding_and_pipelines_run_unchanged(sdp_meta, tmp_path, spark):
    storage, dbfs = tmp_path / "storage", tmp_path / "dbfs"
    data = dbfs / "sdp-meta/resources/data"
    _land(data / "customers", "batch1.json",
          [_customer(i) for i in range(1, 11)] + [{**_customer(0), "id": None}])  # fmt: skip
    _land(data / "customers_af", "batch1.json", [_customer(11), _customer(12)])
    _land(data / "transactions", "batch1.json",
          [_transaction(i) for i in range(1, 6)] + [_transaction(6, amount="n/a")])  # fmt: skip
    _land(data / "transactions_af", "batch1.json", [_transaction(7)])
    _onboard(spark, storage, dbfs, sdp_meta)
    runner = tmp_path / "notebooks" / "init_sdp_meta_pipeline.py"
    runner.parent.mkdir()
    runner.write_text(RUNNER)

    bronze = _update(BRONZE, runner, storage, spark)
    _update(SILVER, runner, storage, spark)

    def rows(query: str) -> list[tuple]:
        return [tuple(r) for r in sql(storage, query, spark=spark).collect()]

    def count(table: str) -> int:
        return rows(f"SELECT count(*) FROM {CATALOG}.{table}")[0][0]

    # Bronze: the main and the append flow land; a NULL id and a rescued amount are dropped
    # and kept in the quarantine tables.
    assert count("bronze.customers") == 12
    assert count("bronze.customers_quarantine") == 1
    assert count("bronze.transactions") == 6
    assert rows(
        "SELECT id, _rescued_data IS NOT NULL FROM main.bronze.transactions_quarantine"
    ) == [(6, True)]
    assert rows("SELECT DISTINCT input_file_name FROM main.bronze.customers WHERE id <= 10") == [
        ("batch1.json",)
    ]
    valid_id = [
        (e["passed_records"], e["failed_records"]) for f in bronze.flows for e in f.expectations
        if e["name"] == "valid_id" and f.dataset == "main.bronze.customers"
    ]  # fmt: skip
    assert sorted(valid_id) == [(2, 0), (10, 1)]  # the main flow and the append flow
    # Silver: AUTO CDC keyed on id, without the operation columns.
    assert count("silver.customers") == 12
    assert count("silver.transactions") == 6
    assert (
        "operation" not in sql(storage, "SELECT * FROM main.silver.customers", spark=spark).columns
    )

    # Round two: an update and a delete travel incrementally through both layers.
    _land(data / "customers", "batch2.json",
          [_customer(1, "UPDATE", day=2, email="new@example.org"), _customer(2, "DELETE", day=2)])  # fmt: skip
    _update(BRONZE, runner, storage, spark)
    _update(SILVER, runner, storage, spark)
    assert count("bronze.customers") == 14
    assert count("silver.customers") == 11
    assert rows("SELECT email FROM main.silver.customers WHERE id IN (1, 2)") == [
        ("new@example.org",)
    ]

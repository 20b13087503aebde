"""A peer's generated pipelines run unchanged: Lakehouse Plumber's own sample project, made in
a throwaway environment with its CLI (``lhp init --sample``, ``lhp generate``), run from its
generated bundle resources (``--settings``) over small seeded TPC-H-like data.

Slow (it installs lakehouse-plumber from PyPI): ``./dev test -m slow tests/peers``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lakehouse.engine import run_pipeline, sql
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.platform.pipelines import settings_file_pipeline

LHP_VERSION = "0.9.3"
ORDERS, LINEITEMS, CUSTOMERS, SUPPLIERS, NATIONS = 30, 30, 40, 10, 10
PIPELINES = ("sample_ingest", "sample_silver", "sample_gold")


def _run(*command: str | Path, cwd: Path) -> None:
    done = subprocess.run(list(map(str, command)), cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Lakehouse Plumber's sample, generated for target dev with its landing zone at a local
    folder (on Databricks, a volume): the project and the landing folder."""
    root = tmp_path_factory.mktemp("lhp")
    _run(sys.executable, "-m", "venv", root / "venv", cwd=root)
    _run(root / "venv/bin/pip", "install", "-q", f"lakehouse-plumber=={LHP_VERSION}", cwd=root)
    project, landing = root / "project", root / "landing"
    project.mkdir()
    _run(root / "venv/bin/lhp", "init", "--sample", "--no-git", "sample", cwd=project)
    substitutions = project / "substitutions" / "dev.yaml"
    text = substitutions.read_text()
    volume = next(line for line in text.splitlines() if "landing_volume:" in line)
    substitutions.write_text(text.replace(volume, f"  landing_volume: {landing}"))
    _run(root / "venv/bin/lhp", "generate", "--env", "dev",
         "--pipeline-config", "config/pipeline_config.yaml", cwd=project)  # fmt: skip
    return project, landing


def _seed(spark, storage: Path, landing: Path) -> None:
    """What the sample's data-prep notebook makes from ``samples.tpch``, small: the landed
    orders (JSON) and line items (CSV) of round 1, the nation and region tables, the customer
    table with a change data feed, and supplier snapshot 1."""
    catalog = LocalCatalog(storage)

    def table(name: str, rows: list[tuple], ddl: str, feed: bool = False) -> None:
        writer = spark.createDataFrame(rows, ddl).write.format("delta")
        if feed:
            writer = writer.option("delta.enableChangeDataFeed", "true")
        writer.save(str(catalog.table_path(TableName(*name.split(".")))))

    table(
        "samples.tpch.region",
        [(r, f"REGION{r}", "") for r in range(5)],
        "r_regionkey BIGINT, r_name STRING, r_comment STRING",
    )
    table(
        "samples.tpch.nation",
        [(n, f"NATION{n}", n % 5, "") for n in range(NATIONS)],
        "n_nationkey BIGINT, n_name STRING, n_regionkey BIGINT, n_comment STRING",
    )
    table(
        "main.sample_bronze.customer_cdf",
        [
            (c, f"Customer#{c}", "", c % NATIONS, "", float(c), "BUILDING", "")
            for c in range(1, CUSTOMERS + 1)
        ],
        "c_custkey BIGINT, c_name STRING, c_address STRING, c_nationkey BIGINT, "
        "c_phone STRING, c_acctbal DOUBLE, c_mktsegment STRING, c_comment STRING",
        feed=True,
    )
    table("main.sample_bronze.supplier_snapshots",
          [(s, f"Supplier#{s}", "", s % NATIONS, "", 10.0 * s, "", 1)
           for s in range(1, SUPPLIERS + 1)],
          "s_suppkey BIGINT, s_name STRING, s_address STRING, s_nationkey BIGINT, "
          "s_phone STRING, s_acctbal DOUBLE, s_comment STRING, snapshot_id INT")  # fmt: skip
    orders = landing / "orders" / "round1"
    orders.mkdir(parents=True)
    (orders / "part-0.json").write_text("".join(
        json.dumps({"o_orderkey": o, "o_custkey": 1 + o % CUSTOMERS, "o_orderstatus": "O",
                    "o_totalprice": 100 + o, "o_orderdate": f"1995-01-{o % 28 + 1:02d}",
                    "o_orderpriority": "1-URGENT", "o_clerk": "Clerk#1", "o_shippriority": 0,
                    "o_comment": "", "received_at": f"1995-01-{o % 28 + 1:02d}T00:00:00"}) + "\n"
        for o in range(1, ORDERS + 1)
    ))  # fmt: skip
    items = landing / "lineitem" / "round1"
    items.mkdir(parents=True)
    header = ("l_orderkey,l_partkey,l_suppkey,l_linenumber,l_quantity,l_extendedprice,"
              "l_discount,l_tax,l_returnflag,l_linestatus,l_shipdate,l_commitdate,"
              "l_receiptdate,l_shipinstruct,l_shipmode,l_comment\n")  # fmt: skip
    (items / "part-0.csv").write_text(header + "".join(
        f"{o},{o},{o % SUPPLIERS + 1},1,{o % 7 + 1},{100.0 + o},0.05,0.01,N,O,"
        f"1995-01-{o % 28 + 1:02d},1995-01-20,1995-01-25,NONE,AIR,\n"
        for o in range(1, LINEITEMS + 1)
    ))  # fmt: skip


def _update(project: Path, pipeline: str, storage: Path, spark) -> None:
    spec = settings_file_pipeline(project / f"resources/lhp/{pipeline}.pipeline.yml", "dev")
    run_pipeline(
        list(spec.sources), storage=storage, name=spec.name, catalog=spec.catalog,
        schema=spec.schema, configuration=spec.configuration, event_log=spec.event_log,
        spark=spark,
    )  # fmt: skip


@pytest.mark.slow
def test_lakehouse_plumbers_sample_runs_unchanged(sample, tmp_path, spark):
    project, landing = sample
    storage = tmp_path / "storage"
    _seed(spark, storage, landing)
    for pipeline in PIPELINES:
        _update(project, pipeline, storage, spark)

    def count(table: str) -> int:
        return sql(storage, f"SELECT count(*) FROM {table}", spark=spark).first()[0]

    assert count("main.sample_bronze.orders_raw") == ORDERS
    assert count("main.sample_bronze.lineitem_raw") == LINEITEMS
    assert count("main.sample_bronze.nation") == NATIONS
    assert count("main.sample_silver.orders") == ORDERS
    assert count("main.sample_silver.dim_customer") == CUSTOMERS
    assert count("main.sample_silver.dim_supplier") == SUPPLIERS  # AUTO CDC from snapshot
    nations_ordering = {(1 + o % CUSTOMERS) % NATIONS for o in range(1, ORDERS + 1)}
    assert count("main.sample_gold.sales_by_nation") == len(nations_ordering)

    # The monitoring job's first task, a notebook, unions the pipelines' event logs (where
    # their event_log settings put them); its pipeline then summarises each update.
    logs = [
        sql(storage, f"SELECT * FROM main._meta.{p}_event_log", spark=spark).withColumn(
            "_source_pipeline", F.lit(p)
        )
        for p in PIPELINES
    ]
    union = logs[0].unionByName(logs[1]).unionByName(logs[2])
    target = LocalCatalog(storage).table_path(TableName("main", "_meta", "all_pipelines_event_log"))
    union.write.format("delta").save(str(target))
    _update(project, "sample_event_log_monitoring", storage, spark)
    assert count("main._meta.events_summary") == len(PIPELINES)  # one update each

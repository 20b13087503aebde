"""The platform demo: every domain landed, ingested and turned into gold, summarized per
domain and layer, and the churn model scored; the second run continues incrementally."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from chispa import assert_df_equality
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.engine import sql
from lakehouse.engine.storage.delta_table import LocalDeltaTable
from lakehouse.platform.domains import find_domains
from tests.browser import open_in_chromium


def _summary_rows(output: str) -> dict[tuple[str, str], list[str]]:
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line)[1:-1]]
        if len(cells) == 9 and cells[1] in ("bronze", "silver", "gold"):
            rows[(cells[0], cells[1])] = cells[2:]
    return rows


def test_demo_runs_every_domain_and_continues_incrementally(tmp_path, spark):
    runner = CliRunner()
    storage = tmp_path / "demo"
    # Scoring starts MLflow in Spark's workers: test_demo_trains_once_then_scores_each_batch.
    first = runner.invoke(app, ["demo", "--storage", str(storage), "--fresh", "--no-score"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["demo", "--storage", str(storage), "--no-score"])
    assert second.exit_code == 0, second.output

    domains = [d.name for d in find_domains()]
    assert domains == ["finance", "hr", "sales"]
    before, after = _summary_rows(first.output), _summary_rows(second.output)
    assert set(after) == {(d, layer) for d in domains for layer in ("bronze", "silver", "gold")}
    for domain in domains:
        landed = [int(n) for n in re.findall(rf"{domain}: landed batch \d+, (\d+) records", second.output)]  # fmt: skip
        bronze_before, bronze_after = before[(domain, "bronze")], after[(domain, "bronze")]
        assert int(bronze_after[2]) == landed[0]  # new rows: only the second batch
        assert int(bronze_after[1]) == int(bronze_before[1]) + landed[0]
        assert int(after[(domain, "silver")][5]) > 0  # quarantined on purpose
        assert int(after[(domain, "gold")][1]) > 0
    assert "landed batch 1" in second.output
    assert second.output.count("  ok  ") == 10 and "LOST" not in second.output
    # Conservation from the landing folder: each dataset's two batch files, read whole.
    accounted = re.findall(r"ok  \w+\.\w+: 2 files: 2 ingested \(\d+ rows\): ok", second.output)
    assert len(accounted) == 5, second.output
    revenue = sql(storage, "SELECT count(*) FROM dev_gold.sales.daily_revenue", spark=spark)
    assert revenue.first()[0] > 0
    # Every dataset is within its contract's SLA right after the run, and both runs' updates
    # (three source systems' ingestion, three domains' gold) conserved their rows.
    monitored = runner.invoke(app, ["monitor", "--storage", str(storage)])
    assert monitored.exit_code == 0, monitored.output
    assert len(re.findall(r"│ ok +│", monitored.output)) == 5, monitored.output
    assert "10 conservation check(s)" in monitored.output, monitored.output
    _the_run_report_shows_every_dataset_in_a_browser(second.output, storage)
    _replaying_gives_the_incremental_tables(runner, storage, spark)


def _the_run_report_shows_every_dataset_in_a_browser(output: str, storage) -> None:
    """The page the demo wrote renders in Chromium without a console error; each domain's graph
    has a node for every table on disk and every landing folder, and a click traces lineage."""
    (printed,) = re.findall(r"run report: (\S+)", output)
    report = Path(printed)
    assert report == (storage / "report.html").resolve() and report.is_file()
    catalog = storage / "catalog"
    with open_in_chromium(report) as opened:
        page = opened.page
        for domain in find_domains():
            graph = page.locator(f"#domain-{domain.name} svg.lineage")
            assert graph.is_visible()
            drawn = set(
                graph.locator("g.node").evaluate_all("nodes => nodes.map(n => n.dataset.key)")
            )
            schemas = [("dev_bronze", ss) for ss in domain.source_systems] + [("dev_silver", ss) for ss in domain.source_systems] + [("dev_gold", domain.name)]  # fmt: skip
            tables = {f"{c}.{s}.{t.name}" for c, s in schemas for t in (catalog / c / s).iterdir() if t.name != "event_log"}  # fmt: skip
            folders = {f"landing/{c.source_system}/{c.dataset}" for c in domain.contracts}
            assert tables | folders <= drawn, (tables | folders) - drawn
            assert page.locator(f"#domain-{domain.name} tbody tr").count() > 5  # hops, gold, ...
        page.locator('g.node[data-key="dev_silver.crm.orders"]').click()
        traced = set(page.locator("g.node.traced").evaluate_all("nodes => nodes.map(n => n.dataset.key)"))  # fmt: skip
        assert {"landing/crm/orders", "dev_bronze.crm.orders", "dev_gold.sales.daily_revenue"} <= traced  # fmt: skip
        assert "dev_silver.crm.customers_quarantine" not in traced
        page.screenshot(path=str(storage / "report.png"), full_page=True)
        assert opened.console == []


def _replaying_gives_the_incremental_tables(runner, storage, spark) -> None:
    """hr's silver and gold rebuilt from bronze equal the tables two incremental runs made."""
    bronze = LocalDeltaTable(storage / "catalog/dev_bronze/hris/employees")
    bronze_version = bronze.version()
    replayed = runner.invoke(app, ["replay", "--domain", "hr", "--storage", str(storage)])
    assert replayed.exit_code == 0, replayed.output
    (kept,) = (storage / "replay").iterdir()  # the replaced tables, as two runs left them
    for table in ("dev_silver/hris/employees", "dev_silver/hris/employees_quarantine", "dev_gold/hr/headcount_by_department"):  # fmt: skip
        assert f"{table.replace('/', '.')}: " in replayed.output
        incremental = spark.read.format("delta").load(str(kept / table))
        rebuilt = spark.read.format("delta").load(str(storage / "catalog" / table))
        assert_df_equality(incremental, rebuilt, ignore_row_order=True, ignore_nullable=True)
    assert "3 table(s) as before, 0 changed" in replayed.output
    assert bronze.version() == bronze_version  # bronze is left as it is


@pytest.mark.slow  # about 35 s more than the demo without scoring
def test_demo_trains_once_then_scores_each_batch(tmp_path, spark):
    runner = CliRunner()
    storage = tmp_path / "demo"
    first = runner.invoke(app, ["demo", "--storage", str(storage), "--fresh"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["demo", "--storage", str(storage)])
    assert second.exit_code == 0, second.output

    assert "trained and registered dev_gold.sales.customer_churn version 1" in first.output
    assert "trained" not in second.output
    assert re.search(r"sales/customer_churn │ 1 +│ full ", first.output), first.output
    assert re.search(r"sales/customer_churn │ 1 +│ incremental ", second.output), second.output
    scored = sql(
        storage,
        "SELECT count(*), count(DISTINCT c.customer_id) FROM dev_gold.sales.customer_360 c "
        "JOIN dev_gold.sales.customer_churn_predictions p USING (customer_id)",
        spark=spark,
    ).first()
    customers = sql(storage, "SELECT count(*) FROM dev_gold.sales.customer_360", spark=spark)
    assert tuple(scored) == (customers.first()[0],) * 2  # every current customer, once

"""The recovery job on Databricks: every table of an environment, listed through the
workspace API, deep-cloned into <env>_recovery (pipeline tables WITH HISTORY, views not at all),
going on past a failure."""

from __future__ import annotations

from lakehouse.operations.deep_clone import clone_all, tables_to_clone
from tests.fake_workspace_api import FakeWorkspaceApi


def test_every_table_is_cloned_into_the_recovery_catalog_and_a_failure_stops_no_other():
    with FakeWorkspaceApi() as api:
        api.add_table("prod_silver.crm.orders", {}, "STREAMING_TABLE")
        api.add_table("prod_gold.sales.daily_revenue", {}, "MATERIALIZED_VIEW")
        api.add_table("prod_bronze.monitoring.landing_audit", {}, "MANAGED")
        api.add_table("prod_gold.sales.eu_revenue", {}, "VIEW")  # a definition, not data
        api.add_schema("prod_gold", "information_schema")
        clones, listing_failures = tables_to_clone(api.client(), "prod")
    assert listing_failures == []
    assert sorted(".".join(c.target) for c in clones) == [
        "prod_recovery.bronze_monitoring.landing_audit",
        "prod_recovery.gold_sales.daily_revenue",
        "prod_recovery.silver_crm.orders",
    ]
    ran: list[str] = []

    def run_sql(statement: str) -> None:
        if "`prod_gold`.`sales`.`daily_revenue`" in statement:
            raise RuntimeError("[DELTA_DEEP_CLONE_MV_ST_ERROR] Deep clone failed\nmore")
        ran.append(statement)

    failures = clone_all(clones, run_sql)
    assert failures == ["`prod_gold`.`sales`.`daily_revenue`: [DELTA_DEEP_CLONE_MV_ST_ERROR] Deep clone failed"]  # fmt: skip
    assert "CREATE OR REPLACE TABLE `prod_recovery`.`silver_crm`.`orders` DEEP CLONE `prod_silver`.`crm`.`orders` WITH HISTORY" in ran  # fmt: skip
    assert "CREATE OR REPLACE TABLE `prod_recovery`.`bronze_monitoring`.`landing_audit` DEEP CLONE `prod_bronze`.`monitoring`.`landing_audit`" in ran  # fmt: skip
    assert "CREATE SCHEMA IF NOT EXISTS `prod_recovery`.`silver_crm`" in ran

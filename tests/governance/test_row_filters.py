"""A contract's row filter: readers outside the owning domain see only the silver rows where
it holds (evaluated here in Spark with a chosen group membership), the raw layers none; a
filter that could not be set keeps its table from everybody."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.contracts import load_contract
from lakehouse.governance.row_filters import contract_row_filters, preview_rows
from lakehouse.governance.table_grants import apply_governance
from lakehouse.platform.registry import load_domain_spec

REPO = Path(__file__).resolve().parents[2]
SALES = load_domain_spec(REPO / "domains/sales/domain.yml")


def _orders_for_the_eu():
    contract = load_contract(REPO / "domains/sales/contracts/crm_orders.yaml")
    return contract.model_copy(update={"row_filter": "currency = 'EUR'"})


def test_silver_is_filtered_by_the_contracts_condition_and_the_raw_layers_by_ownership():
    filters = {f.table[0] + "." + f.table[2]: f for f in contract_row_filters(_orders_for_the_eu(), SALES, "prod")}  # fmt: skip
    assert sorted(filters) == ["prod_bronze.orders", "prod_silver.orders", "prod_silver.orders_quarantine"]  # fmt: skip
    silver = filters["prod_silver.orders"]
    assert silver.create_function().startswith(
        "CREATE OR REPLACE FUNCTION `prod_silver`.`crm`.`lakehouse_row_filter_orders`("
        "`order_id` STRING, `customer_id` BIGINT, "
    )
    assert silver.create_function().endswith(
        "RETURNS BOOLEAN RETURN is_account_group_member('sales-data-readers') OR "
        "is_account_group_member('sales-data-engineers') OR "
        "is_account_group_member('sales-data-admins') OR (currency = 'EUR')"
    )
    assert silver.set_filter().startswith(
        "ALTER TABLE `prod_silver`.`crm`.`orders` SET ROW FILTER "
        "`prod_silver`.`crm`.`lakehouse_row_filter_orders` ON (`order_id`, `customer_id`, "
    )
    assert "OR (" not in filters["prod_bronze.orders"].body()  # owners only
    assert contract_row_filters(load_contract(REPO / "domains/sales/contracts/crm_orders.yaml"), SALES, "prod") == []  # fmt: skip


@pytest.mark.parametrize(
    ("groups", "silver_rows", "bronze_rows"),
    [(["sales-data-readers"], 3, 3), (["finance-data-readers"], 2, 0), ([], 2, 0)],
    ids=["owning-readers", "other-domain", "nobody"],
)
def test_each_group_sees_the_rows_the_filter_allows(spark, groups, silver_rows, bronze_rows):
    filters = {f.table[2] + f.table[0]: f for f in contract_row_filters(_orders_for_the_eu(), SALES, "dev")}  # fmt: skip
    orders = spark.createDataFrame(
        [("o1", 1, "EUR"), ("o2", 2, "EUR"), ("o3", 3, "NOK")],
        "order_id STRING, customer_id BIGINT, currency STRING",
    )
    assert preview_rows(spark, orders, filters["ordersdev_silver"], groups).count() == silver_rows
    assert preview_rows(spark, orders, filters["ordersdev_bronze"], groups).count() == bronze_rows


def test_a_general_table_whose_row_filter_could_not_be_set_is_not_granted_to_everybody():
    filters = contract_row_filters(_orders_for_the_eu(), SALES, "prod")
    tables = {f.table: {"lakehouse.classification": "general"} for f in filters}

    def run(statement: str) -> None:
        if statement.startswith("ALTER TABLE `prod_silver`.`crm`.`orders` SET ROW FILTER"):
            raise RuntimeError("[PERMISSION_DENIED] User does not have MANAGE on Table")

    statements, failures = apply_governance(tables, [], run, filters)
    assert len(failures) == 1
    assert "REVOKE SELECT ON TABLE `prod_silver`.`crm`.`orders` FROM `account users`" in statements
    assert "GRANT SELECT ON TABLE `prod_bronze`.`crm`.`orders` TO `account users`" in statements

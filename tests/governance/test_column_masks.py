"""Column masks generated from a contract: every column classified above its table is masked
in bronze and silver by a SQL function that Spark evaluates here with a chosen group
membership, showing what each group sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.contracts import load_contract
from lakehouse.contracts.model import Classification
from lakehouse.governance.column_masks import contract_masks, mask_statements, preview
from lakehouse.platform.registry import load_domain_spec

REPO = Path(__file__).resolve().parents[2]
SALES = load_domain_spec(REPO / "domains/sales/domain.yml")


def _general_customers():
    """crm customers as a general table whose name is confidential and email restricted."""
    contract = load_contract(REPO / "domains/sales/contracts/crm_customers.yaml")
    levels = {"name": Classification.CONFIDENTIAL, "email": Classification.RESTRICTED,
              "customer_id": Classification.GENERAL, "changed_at": Classification.CONFIDENTIAL}  # fmt: skip
    columns = tuple(
        c.model_copy(update={"classification": levels.get(c.name, Classification.GENERAL)})
        for c in contract.columns
    )
    return contract.model_copy(update={"classification": Classification.GENERAL, "columns": columns})  # fmt: skip


def test_columns_above_their_table_are_masked_in_bronze_and_silver_with_quoted_sql():
    masks = contract_masks(_general_customers(), SALES, "prod")
    assert {(".".join(m.table[:3:2]), m.column, m.sql_type, m.level.value) for m in masks} == {
        ("prod_bronze.customers", "name", "STRING", "confidential"),
        ("prod_bronze.customers", "email", "STRING", "restricted"),
        ("prod_bronze.customers", "changed_at", "STRING", "confidential"),  # landed text
        ("prod_bronze.customers", "_rescued_data", "STRING", "restricted"),
        ("prod_silver.customers", "name", "STRING", "confidential"),
        ("prod_silver.customers", "email", "STRING", "restricted"),
        ("prod_silver.customers", "changed_at", "TIMESTAMP", "confidential"),
        ("prod_silver.customers_quarantine", "name", "STRING", "confidential"),
        ("prod_silver.customers_quarantine", "email", "STRING", "restricted"),
        ("prod_silver.customers_quarantine", "changed_at", "STRING", "confidential"),
        ("prod_silver.customers_quarantine", "_rescued_data", "STRING", "restricted"),
    }
    statements = mask_statements(masks)
    functions = [s for s in statements if s.startswith("CREATE")]
    assert len(functions) == 5  # one per schema, level and type
    assert statements[0] == (
        "CREATE OR REPLACE FUNCTION `prod_bronze`.`crm`.`lakehouse_mask_confidential_string`"
        "(value STRING) RETURNS STRING RETURN CASE WHEN "
        "is_account_group_member('sales-data-readers') OR "
        "is_account_group_member('sales-data-engineers') OR "
        "is_account_group_member('sales-data-admins') THEN value "
        "ELSE '<masked: confidential>' END"
    )
    assert "ALTER TABLE `prod_silver`.`crm`.`customers` ALTER COLUMN `changed_at` SET MASK `prod_silver`.`crm`.`lakehouse_mask_confidential_timestamp`" in statements  # fmt: skip


def test_nothing_is_masked_in_a_table_classified_as_high_as_its_columns():
    contract = load_contract(REPO / "domains/sales/contracts/crm_customers.yaml")
    assert contract.classification is Classification.CONFIDENTIAL
    assert contract_masks(contract, SALES, "prod") == []


def test_a_group_name_cannot_change_the_generated_sql():
    groups = SALES.groups.model_copy(update={"readers": "x') OR true OR ('"})
    owner = SALES.model_copy(update={"groups": groups})
    (statement, *_) = mask_statements(contract_masks(_general_customers(), owner, "dev"))
    assert "is_account_group_member('x\\') OR true OR (\\'')" in statement


@pytest.mark.parametrize(
    ("groups", "sees"),
    [
        (["sales-data-engineers"], ("Ann", "ann@example.com", "2026-01-01 10:00:00")),
        (["sales-data-readers"], ("Ann", "<masked: restricted>", "2026-01-01 10:00:00")),
        (["finance-data-readers"], ("<masked: confidential>", "<masked: restricted>", None)),
        ([], ("<masked: confidential>", "<masked: restricted>", None)),
    ],
    ids=["owning-engineers", "owning-readers", "other-domain", "nobody"],
)
def test_each_group_sees_what_its_classification_allows(spark, groups, sees):
    quarantine = [m for m in contract_masks(_general_customers(), SALES, "dev") if m.table[2] == "customers_quarantine"]  # fmt: skip
    silver = [m for m in contract_masks(_general_customers(), SALES, "dev") if m.table[2] == "customers"]  # fmt: skip
    silver += [m for m in quarantine if m.column == "_rescued_data"]  # kept beside silver
    rows = (
        spark.createDataFrame(
            [(1, "Ann", "ann@example.com", "NO", "2026-01-01 10:00:00", '{"vip": true}')],
            "customer_id BIGINT, name STRING, email STRING, country STRING, changed_at STRING, "
            "_rescued_data STRING",
        )
        .selectExpr("*", "CAST(changed_at AS TIMESTAMP) AS changed")
        .drop("changed_at")
    )
    rows = rows.withColumnRenamed("changed", "changed_at")
    (seen,) = preview(spark, rows, silver, groups).collect()
    changed_at = None if seen["changed_at"] is None else str(seen["changed_at"])
    assert (seen["name"], seen["email"], changed_at) == sees
    assert (seen["customer_id"], seen["country"]) == (1, "NO")  # general: everybody
    expected_rescued = '{"vip": true}' if "sales-data-engineers" in groups else "<masked: restricted>"  # fmt: skip
    assert seen["_rescued_data"] == expected_rescued


def test_governance_masks_prints_what_the_repositorys_contracts_call_for():
    from typer.testing import CliRunner

    from lakehouse.cli import app

    runner = CliRunner()
    printed = runner.invoke(app, ["governance", "masks", "--env", "prod", "--root", str(REPO)])
    assert printed.exit_code == 0, printed.output
    # finance's cost centres are general, with the owner's email confidential
    assert "ALTER TABLE `prod_silver`.`erp`.`cost_centres` ALTER COLUMN `owner_email` SET MASK `prod_silver`.`erp`.`lakehouse_mask_confidential_string`" in printed.output  # fmt: skip
    wrong = runner.invoke(app, ["governance", "masks", "--env", "staging", "--root", str(REPO)])
    assert wrong.exit_code == 2 and "expected one of dev, test, prod" in wrong.output

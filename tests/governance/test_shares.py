"""Delta Sharing: what a share file may hold, the view a recipient receives (evaluated in
Spark), and the share job against a stand-in workspace API through databricks-sdk."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.engine import sql
from lakehouse.governance.classified_tables import classified_tables
from lakehouse.governance.share_job import apply_shares
from lakehouse.governance.shares import ShareError, load_shares, share_plan
from tests.fake_workspace_api import FakeWorkspaceApi

REPO = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 7)
APPROVED = "approval: {by: financial-controller@example.com, when: 2026-12-01, reference: DSA-9}\n"
ACME = "recipient:\n  name: acme\n  sharing_identifier: azure:westeurope:19a85dee-54bc-43a2-87ab-023d0ec16013\n  contact: data@acme.example\n"  # fmt: skip


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copy(REPO / "databricks.yml", tmp_path / "databricks.yml")
    shutil.copytree(REPO / "domains", tmp_path / "domains", ignore=shutil.ignore_patterns("__pycache__", "tests"))  # fmt: skip
    (tmp_path / "domains/finance/shares").mkdir()
    return tmp_path


def _share(root: Path, name: str, tables: str, *, approval: str = APPROVED, recipient: str = ACME, expires: date = date(2099, 1, 1)) -> Path:  # fmt: skip
    file = root / "domains/finance/shares" / f"{name}.yml"
    file.write_text(f"{recipient}purpose: Budget benchmarking.\nexpires: {expires}\n{approval}tables:\n{tables}")  # fmt: skip
    return file


def _plan(root: Path, name: str):
    (declared,) = [s for s in load_shares(root) if s.name == f"finance_{name}"]
    return share_plan(declared, classified_tables(root), "prod")


def test_a_general_tables_masked_column_is_left_out_of_the_view_the_recipient_receives(root):
    _share(root, "budgets", "  - table: silver.erp.cost_centres\n    partition_filter: department = 'Finance'\n")  # fmt: skip
    views, refusals = _plan(root, "budgets")
    assert refusals == []
    (view,) = views
    assert "owner_email" not in view.columns and "name" in view.columns  # confidential: masked
    assert view.view == ("prod_platform", "sharing", "finance_budgets__silver_erp_cost_centres")
    assert view.create_view().endswith("FROM `prod_silver`.`erp`.`cost_centres` WHERE (department = 'Finance')")  # fmt: skip


def test_a_silver_tables_row_filter_holds_for_the_recipient_too(root):
    contract = root / "domains/finance/contracts/erp_cost_centres.yaml"
    contract.write_text(contract.read_text().replace(
        "      - property: classification\n        value: general\n",
        "      - property: classification\n        value: general\n"
        "      - property: rowFilter\n        value: department <> 'HR'\n",
    ))  # fmt: skip
    _share(root, "budgets", "  - table: silver.erp.cost_centres\n    partition_filter: department = 'Finance'\n")  # fmt: skip
    (view,), _ = _plan(root, "budgets")
    assert view.query().endswith("WHERE (department <> 'HR') AND (department = 'Finance')")


@pytest.mark.parametrize(
    ("tables", "approval", "refused"),
    [
        (
            "  - table: silver.erp.gl_journal_lines\n",
            APPROVED,
            "silver.erp.gl_journal_lines is confidential: it may not leave the platform",
        ),
        (
            "  - table: gold.finance.monthly_spend_by_cost_centre\n",
            "",
            "is general: record the data owner's approval (financial-controller@example.com)",
        ),
        (
            "  - table: gold.sales.daily_revenue\n",
            APPROVED,
            "gold.sales.daily_revenue is sales's: finance shares only its own data",
        ),
        ("  - table: bronze.erp.cost_centres\n", APPROVED, "keeps records as landed"),
        ("  - table: silver.erp.cost_centres_quarantine\n", APPROVED, "keeps records as landed"),
        (
            "  - table: silver.erp.cost_centres\n    columns: [cost_centre_id, owner_email]\n",
            APPROVED,
            "silver.erp.cost_centres.owner_email is confidential (masked inside the platform)",
        ),
        (
            "  - table: silver.erp.cost_centres\n    columns: [colour]\n",
            APPROVED,
            "has no column 'colour'",
        ),
        (
            "  - table: gold.finance.monthly_spend_by_cost_centre\n",
            "approval: {by: someone@example.com, when: 2026-12-01}\n",
            "the approval is by someone@example.com",
        ),
    ],
)
def test_a_share_never_holds_data_its_classification_keeps_in(root, tables, approval, refused):
    file = _share(root, "bad", tables, approval=approval)
    views, refusals = _plan(root, "bad")
    assert views == [] or refused.endswith("(masked inside the platform)")
    assert any(refused in r.message for r in refusals), refusals
    # governance check names the file and line
    result = CliRunner().invoke(app, ["governance", "check", "--root", str(root)])
    assert result.exit_code == 1
    line = next(r.line for r in refusals if refused in r.message)
    assert f"{file.relative_to(root)}:{line}: share-forbidden-data: share finance_bad: " in result.output  # fmt: skip


def test_a_broken_share_file_names_each_field_and_line(root):
    _share(
        root,
        "broken",
        "  - table: silver.erp.cost_centres\n    partition_filter: id IN (SELECT id FROM secrets)\n    colour: red\n",
        recipient="recipient:\n  name: Acme Corp\n  sharing_identifier: acme\n  contact: nobody\n",
    )
    with pytest.raises(ShareError) as raised:
        load_shares(root)
    problems = {(p.line, p.field): p.message for p in raised.value.problems}
    assert problems[(2, "recipient.name")] == "expected a lower-case identifier, such as acme_analytics"  # fmt: skip
    assert "sharing identifier" in problems[(3, "recipient.sharing_identifier")]
    assert problems[(4, "recipient.contact")] == "expected an e-mail address"
    assert "expected a SQL condition" in problems[(10, "tables[0].partition_filter")]
    assert "unknown field" in problems[(11, "tables[0].colour")]
    result = CliRunner().invoke(app, ["share", "list", "--root", str(root)])
    assert result.exit_code == 1 and "broken.yml:2: recipient.name" in result.output


def test_preview_shows_exactly_the_rows_and_columns_the_recipient_receives(root, spark, tmp_path):
    _share(root, "budgets", "  - table: silver.erp.cost_centres\n    partition_filter: department = 'Finance'\n")  # fmt: skip
    storage = tmp_path / "storage"
    spark.sql(
        "SELECT 1L AS cost_centre_id, 'Ledger' AS name, 'Finance' AS department, "
        "'ann@example.com' AS owner_email, TIMESTAMP'2026-01-01' AS changed_at, "
        "TIMESTAMP'2026-01-01' AS __START_AT, CAST(NULL AS TIMESTAMP) AS __END_AT "
        "UNION ALL SELECT 2L, 'Shop', 'Sales', 'bo@example.com', TIMESTAMP'2026-01-01', "
        "TIMESTAMP'2026-01-01', NULL"
    ).write.format("delta").save(str(storage / "catalog/dev_silver/erp/cost_centres"))
    (view,), _ = share_plan(load_shares(root)[0], classified_tables(root), "dev")
    frame = sql(storage, view.query(), spark=spark)
    assert frame.columns == ["cost_centre_id", "name", "department", "changed_at", "__START_AT", "__END_AT"]  # fmt: skip
    assert [tuple(r)[:3] for r in frame.collect()] == [(1, "Ledger", "Finance")]
    result = CliRunner().invoke(app, ["share", "preview", "budgets", "--storage", str(storage), "--root", str(root)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "acme receives dev_platform.sharing.finance_budgets__silver_erp_cost_centres (1 row(s)" in result.output  # fmt: skip
    assert "Ledger" in result.output and "ann@example.com" not in result.output and "Shop" not in result.output  # fmt: skip
    prod = CliRunner().invoke(app, ["share", "preview", "budgets", "--env", "prod", "--storage", str(storage), "--root", str(root)])  # fmt: skip
    assert prod.exit_code == 1 and "no table prod_silver.erp.cost_centres under" in prod.output
    missing = CliRunner().invoke(app, ["share", "preview", "nope", "--storage", str(storage), "--root", str(root)])  # fmt: skip
    assert missing.exit_code == 1 and "'nope' is no share; shares: finance_budgets, sales_partner_revenue" in missing.output  # fmt: skip


def test_the_share_job_creates_the_recipient_the_views_and_the_grant_once(root):
    _share(root, "budgets", "  - table: silver.erp.cost_centres\n  - table: gold.finance.monthly_spend_by_cost_centre\n")  # fmt: skip
    _share(root, "open", "  - table: gold.finance.monthly_spend_by_cost_centre\n",
           recipient="recipient:\n  name: auditor\n  contact: audit@example.com\n")  # fmt: skip
    _share(root, "old", "  - table: gold.finance.monthly_spend_by_cost_centre\n", expires=TODAY - timedelta(days=1))  # fmt: skip
    (root / "domains/sales/shares/partner_revenue.yml").unlink()
    statements: list[str] = []
    with FakeWorkspaceApi() as api:
        api.shares["finance_old"] = {"name": "finance_old", "objects": []}
        report = apply_shares(api.client(), statements.append, load_shares(root), classified_tables(root), "prod", TODAY)  # fmt: skip
        assert report.failures == [] and report.refused == []
        assert api.recipients["acme"]["authentication_type"] == "DATABRICKS"
        assert api.recipients["acme"]["data_recipient_global_metastore_id"] == "azure:westeurope:19a85dee-54bc-43a2-87ab-023d0ec16013"  # fmt: skip
        assert api.recipients["auditor"]["authentication_type"] == "TOKEN"
        assert sorted(o["name"] for o in api.shares["finance_budgets"]["objects"]) == [
            "prod_platform.sharing.finance_budgets__gold_finance_monthly_spend_by_cost_centre",
            "prod_platform.sharing.finance_budgets__silver_erp_cost_centres",
        ]
        assert api.share_grants["finance_budgets"] == [{"principal": "acme", "add": ["SELECT"]}]
        assert api.share_grants["finance_old"] == [{"principal": "acme", "remove": ["SELECT"]}]
        assert "finance_old" in " ".join(report.revoked)
        assert len(statements) == 3 and all(s.startswith("CREATE OR REPLACE VIEW `prod_platform`.`sharing`.") for s in statements)  # fmt: skip
        # A second run changes nothing it does not have to: no new recipient, no object twice;
        # a table no longer declared leaves the share.
        _share(root, "budgets", "  - table: silver.erp.cost_centres\n")
        posts = len(api.api_calls("POST"))
        apply_shares(api.client(), statements.append, load_shares(root), classified_tables(root), "prod", TODAY)  # fmt: skip
        assert len(api.api_calls("POST")) == posts
        assert [o["name"] for o in api.shares["finance_budgets"]["objects"]] == ["prod_platform.sharing.finance_budgets__silver_erp_cost_centres"]  # fmt: skip


def test_the_share_job_leaves_out_what_a_share_may_not_hold_and_goes_on_past_a_failure(root):
    _share(root, "mixed", "  - table: silver.erp.gl_journal_lines\n  - table: silver.erp.cost_centres\n")  # fmt: skip
    _share(root, "other", "  - table: gold.finance.monthly_spend_by_cost_centre\n")
    (root / "domains/sales/shares/partner_revenue.yml").unlink()

    def run_sql(statement: str) -> None:
        if "finance_other" in statement:
            raise RuntimeError("PERMISSION_DENIED: cannot create view\nat line 2")

    with FakeWorkspaceApi() as api:
        report = apply_shares(api.client(), run_sql, load_shares(root), classified_tables(root), "prod", TODAY)  # fmt: skip
    assert [o["name"] for o in api.shares["finance_mixed"]["objects"]] == ["prod_platform.sharing.finance_mixed__silver_erp_cost_centres"]  # fmt: skip
    assert any("gl_journal_lines is confidential" in r for r in report.refused)
    assert report.failures == ["finance_other: view `prod_platform`.`sharing`.`finance_other__gold_finance_monthly_spend_by_cost_centre`: PERMISSION_DENIED: cannot create view"]  # fmt: skip
    assert api.shares["finance_other"]["objects"] == []

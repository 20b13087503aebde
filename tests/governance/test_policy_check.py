"""`lakehouse governance check`: the repository keeps the rules, and each rule broken on
purpose (a mutation of a file, or of the code that derives access from it) is named at its file
and line."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.contracts.model import Classification
from lakehouse.governance import access, column_masks
from lakehouse.governance.policy_check import (
    GRANTED_OUTSIDE,
    READS_SANDPIT,
    UNMASKED,
    check_repository,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The repository's governed files, to break on purpose."""
    shutil.copy(REPO / "databricks.yml", tmp_path / "databricks.yml")
    shutil.copytree(REPO / "sandpits", tmp_path / "sandpits")
    shutil.copytree(REPO / "domains", tmp_path / "domains", ignore=shutil.ignore_patterns("__pycache__", "tests"))  # fmt: skip
    return tmp_path


def _found(root: Path) -> set[tuple[str, int, str]]:
    return {(str(v.file.relative_to(root)), v.line, v.rule) for v in check_repository(root)}


def _line(file: Path, text: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if text in line)


def test_the_repository_keeps_every_rule():
    result = CliRunner().invoke(app, ["governance", "check", "--root", str(REPO)])
    assert result.exit_code == 0, result.output
    assert "the 4 rules hold" in result.output


def _sandpit(root: Path, reads: str) -> Path:
    file = root / "sandpits/ideas.yml"
    file.write_text(
        f"name: ideas\nowner: ana@example.com\npurpose: Try things.\ncreated: {date.today()}\n"
        f"expires: {date.today() + timedelta(days=30)}\nreads:\n{reads}"
    )
    return file


def test_a_sandpit_reading_classified_data_needs_its_data_owners_approval(root):
    file = _sandpit(root, "  - table: silver.crm.orders\n  - table: silver.crm.customers\n"
                          "  - table: gold.finance.trial_balance\n  - table: silver.erp.nothing\n"
                          "  - table: gold.hr.headcount_by_department\n")  # fmt: skip
    result = CliRunner().invoke(app, ["governance", "check", "--root", str(root)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "sandpits/ideas.yml:8: granted-outside-domain: silver.crm.customers is confidential data of sales: record its data owner's approval (head-of-sales-ops@example.com)" in lines  # fmt: skip
    assert any(line.startswith("sandpits/ideas.yml:9: granted-outside-domain: gold.finance.trial_balance is confidential data of finance") for line in lines)  # fmt: skip
    assert any(line.startswith("sandpits/ideas.yml:10: granted-outside-domain: silver.erp.nothing: no contract") for line in lines)  # fmt: skip
    # General data (a contract's, or a gold table its pipeline declares general): no approval.
    assert not any(":7:" in line or ":11:" in line for line in lines)
    _sandpit(root, "  - table: silver.crm.customers\n    approval: {by: someone@example.com, when: 2026-12-01}\n")  # fmt: skip
    assert _found(root) == {
        ("sandpits/ideas.yml", 8, GRANTED_OUTSIDE)
    }  # approved, not by its owner
    _sandpit(root, "  - table: silver.crm.customers\n    approval: {by: head-of-sales-ops@example.com, when: 2026-12-01}\n")  # fmt: skip
    assert _found(root) == set() and file.is_file()


def test_a_domain_pipeline_or_job_naming_a_sandpit_is_found_at_its_line(root):
    gold = root / "domains/sales/pipelines/gold.py"
    gold.write_text(gold.read_text().replace(
        'SILVER = f"{ENV}_silver', 'IDEAS = f"{ENV}_sandpit.ideas"\nSILVER = f"{ENV}_silver'
    ))  # fmt: skip
    job = root / "domains/hr/resources/hr_gold.pipeline.yml"
    job.write_text(job.read_text() + "# reads prod_sandpit.ideas.notes\n")
    assert _found(root) == {
        ("domains/sales/pipelines/gold.py", _line(gold, "_sandpit.ideas"), READS_SANDPIT),
        ("domains/hr/resources/hr_gold.pipeline.yml", _line(job, "prod_sandpit"), READS_SANDPIT),
    }


def test_a_confidential_column_left_unmasked_is_found_at_its_contract_line(root, monkeypatch):
    # The mutation: the mask generator forgets confidential columns (finance's general
    # cost_centres has a confidential owner_email).
    monkeypatch.setattr(column_masks, "MASKED_LEVELS", (Classification.RESTRICTED,))
    contract = root / "domains/finance/contracts/erp_cost_centres.yaml"
    found = _found(root)
    line = _line(contract, "classification: confidential")
    assert ("domains/finance/contracts/erp_cost_centres.yaml", line, UNMASKED) in found
    assert {rule for _, _, rule in found} == {UNMASKED}


def test_a_schema_or_catalog_granted_outside_its_domain_is_found(root, monkeypatch):
    # The mutations: platform engineers read every domain schema again, and the platform's
    # admins hold ALL_PRIVILEGES on the catalogs (SELECT on everything below).
    schema_grants = access.schema_grants
    monkeypatch.setattr(access, "schema_grants", lambda owner: [*schema_grants(owner), {"principal": "platform-engineers", "privileges": ["SELECT"]}])  # fmt: skip
    monkeypatch.setattr(access, "catalog_grants", lambda platform: [{"principal": "platform-admins", "privileges": ["ALL_PRIVILEGES"]}])  # fmt: skip
    violations = [v for v in check_repository(root) if v.rule == GRANTED_OUTSIDE]
    messages = {str(v) for v in violations}
    customers = root / "domains/sales/contracts/crm_customers.yaml"
    assert f"{customers}:{_line(customers, 'property: classification') + 1}: granted-outside-domain: prod_silver.crm grants platform-engineers SELECT, outside sales" in messages  # fmt: skip
    assert any("catalog prod_silver grants platform-admins ALL_PRIVILEGES" in m for m in messages)
    assert any("prod_gold.hr grants platform-engineers SELECT" in m for m in messages)


def test_a_mask_shown_outside_the_domain_is_found(root, monkeypatch):
    visible_to = column_masks.visible_to
    monkeypatch.setattr(column_masks, "visible_to", lambda level, owner: (*visible_to(level, owner), "sales-data-readers"))  # fmt: skip
    found = [v for v in check_repository(root) if "shows it to sales-data-readers" in v.message]
    assert {v.file.name for v in found} == {"erp_cost_centres.yaml"}  # sales's own masks are fine


def test_check_names_a_broken_contract_instead_of_checking_around_it(root):
    contract = root / "domains/sales/contracts/crm_orders.yaml"
    contract.write_text(contract.read_text().replace("kind: DataContract", "kind: Nonsense"))
    result = CliRunner().invoke(app, ["governance", "check", "--root", str(root)])
    assert result.exit_code == 1 and "crm_orders.yaml:" in result.output and "kind" in result.output

"""Contract diffs: each kind of change is classified compatible or breaking, a breaking change
needs a new major version, and the CLI compares files or the working tree with a git ref."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.contracts import load_contract
from lakehouse.contracts.compatibility import allowed, contract_changes
from tests.contracts.test_loader import _DELETE, _document, _set, _write

COLUMNS = ("schema", 0, "properties")
SEGMENT = {"name": "loyalty_tier", "logicalType": "string"}
FAIL_RULE = {
    "name": "segment_known",
    "type": "custom",
    "engine": "spark-sql",
    "implementation": "segment IN ('consumer', 'business')",
    "customProperties": [{"property": "action", "value": "fail"}],
}


def _with_column(document, column):
    document["schema"][0]["properties"].append(column)
    return document


def _with_rule(document, rule):
    document["schema"][0]["quality"].append(rule)
    return document


def _with_row_filter(document, condition):
    document["schema"][0]["customProperties"].append({"property": "rowFilter", "value": condition})
    return document


@pytest.mark.parametrize(
    ("change", "field", "breaking"),
    [
        (lambda d: _set(d, (*COLUMNS, 4), _DELETE), "columns.segment", True),
        (lambda d: _with_column(d, SEGMENT), "columns.loyalty_tier", False),
        (lambda d: _with_column(d, {**SEGMENT, "required": True}), "columns.loyalty_tier", True),
        (lambda d: _set(d, (*COLUMNS, 0, "physicalType"), "INT"), "columns.customer_id", True),
        (lambda d: _set(d, (*COLUMNS, 0, "physicalType"), "STRING"), "columns.customer_id", False),
        (lambda d: _set(d, (*COLUMNS, 4, "required"), True), "columns.segment", True),
        (lambda d: _set(d, (*COLUMNS, 3, "classification"), "restricted"), "columns.country", True),
        (lambda d: _set(d, (*COLUMNS, 3, "classification"), "public"), "columns.country", True),
        (lambda d: _set(d, (*COLUMNS, 1, "primaryKey"), True), "primary key", True),
        (lambda d: _with_rule(d, FAIL_RULE), "quality.segment_known", True),
        (lambda d: _with_rule(d, {**FAIL_RULE, "customProperties": []}), "quality.segment_known", False),
        (lambda d: _set(d, (*COLUMNS, 3, "quality"), _DELETE), "quality.known_country", False),
        (lambda d: _set(d, ("customProperties", 2, "value"), "csv"), "file_format", True),
        (lambda d: _set(d, ("customProperties", 3, "value", "scdType"), 1), "cdc", True),
        (lambda d: _with_row_filter(d, "country = 'NO'"), "row_filter", True),
    ],
    ids=["column-removed", "optional-added", "required-added", "type-narrowed", "type-widened",
         "made-required", "classification-raised", "classification-lowered", "key-changed",
         "failing-rule-added", "warning-rule-added", "rule-removed", "format", "scd-type",
         "row-filter-added"],
)  # fmt: skip
def test_each_change_is_classified(tmp_path, change, field, breaking):
    old = load_contract(_write(tmp_path, _document(), "old.yaml"))
    new = load_contract(_write(tmp_path, change(_document()), "new.yaml"))
    changes = contract_changes(old, new)
    assert [c.breaking for c in changes if c.field == field] == [breaking], changes
    assert allowed(old, new, changes) is not any(c.breaking for c in changes)


def test_decimal_types_widen_only_without_losing_digits(tmp_path):
    def with_amount(decimal: str):
        column = {"name": "credit", "logicalType": "number", "physicalType": decimal}
        return load_contract(_write(tmp_path, _with_column(_document(), column), f"{decimal}.yaml"))

    base = with_amount("DECIMAL(10,2)")
    for wider, widens in (
        ("DECIMAL(12,2)", True),
        ("DECIMAL(12,4)", True),
        ("DECIMAL(10,3)", False),
    ):
        (change,) = contract_changes(base, with_amount(wider))
        assert change.breaking is not widens, change


def test_a_breaking_change_is_allowed_with_a_new_major_version(tmp_path):
    old = load_contract(_write(tmp_path, _document(), "old.yaml"))
    removed = _set(_document(), (*COLUMNS, 4), _DELETE)
    minor = load_contract(_write(tmp_path, _set(removed, ("version",), "1.1.0"), "minor.yaml"))
    major = load_contract(_write(tmp_path, _set(removed, ("version",), "2.0.0"), "major.yaml"))
    assert not allowed(old, minor, contract_changes(old, minor))
    assert allowed(old, major, contract_changes(old, major))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_cli_compares_the_working_tree_with_a_git_ref(tmp_path, monkeypatch):
    contract = tmp_path / "domains/sales/contracts/crm_customers.yaml"
    contract.parent.mkdir(parents=True)
    contract.write_text(yaml.safe_dump(_document(), sort_keys=False))
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@x", "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "contracts")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["contracts", "diff", "--against", "HEAD"]).exit_code == 0

    removed = _set(_document(), (*COLUMNS, 4), _DELETE)
    contract.write_text(yaml.safe_dump(removed, sort_keys=False))
    result = runner.invoke(app, ["contracts", "diff", "--against", "HEAD"])
    assert result.exit_code == 1
    assert "breaking: columns.segment: removed" in result.output

    contract.write_text(yaml.safe_dump(_set(removed, ("version",), "2.0.0"), sort_keys=False))
    assert runner.invoke(app, ["contracts", "diff", "--against", "HEAD"]).exit_code == 0

    contract.unlink()
    result = runner.invoke(app, ["contracts", "diff", "--against", "HEAD"])
    assert result.exit_code == 1 and "removed (breaking)" in result.output

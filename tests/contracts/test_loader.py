"""Contracts load into the typed model, or every problem is named with its file, line and
field: the example contract, one broken variant per rule, and property-based fuzzing."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.contracts import ContractError, load_contract
from lakehouse.contracts.model import Action, Classification

REPO = Path(__file__).resolve().parents[2]
CUSTOMERS = REPO / "domains/sales/contracts/crm_customers.yaml"


def _document() -> dict[str, Any]:
    return yaml.safe_load(CUSTOMERS.read_text())


def _write(tmp_path: Path, document: Any, name: str = "contract.yaml") -> Path:
    file = tmp_path / name
    file.write_text(yaml.safe_dump(document, sort_keys=False))
    return file


def _problems(file: Path) -> list[str]:
    with pytest.raises(ContractError) as caught:
        load_contract(file)
    return [str(p) for p in caught.value.problems]


def test_the_example_contract_loads_into_the_typed_model():
    contract = load_contract(CUSTOMERS)
    assert (contract.domain, contract.source_system, contract.dataset) == (
        "sales",
        "crm",
        "customers",
    )
    assert contract.keys == ("customer_id",)
    assert contract.cdc is not None and contract.cdc.scd_type == 2
    assert contract.cdc.track_history_except_columns == ("changed_at",)
    assert contract.classification is Classification.CONFIDENTIAL
    assert {c.name: c.classification for c in contract.columns}["country"] is Classification.GENERAL
    assert {c.name: c.spark_type for c in contract.columns}["changed_at"] == "TIMESTAMP"
    rules = {r.name: r for r in contract.quality}
    assert rules["name_present"].condition == "`name` IS NOT NULL"
    assert rules["name_present"].action is Action.QUARANTINE
    assert rules["known_country"].condition.endswith("IN ('NO', 'SE', 'DK', 'FI', 'DE', 'GB')")
    assert rules["known_operation"].action is Action.DROP
    assert (contract.sla.latency_seconds, contract.sla.freshness_seconds) == (3600, 86400)


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    parent = changed
    for part in path[:-1]:
        parent = parent[part]
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return changed


_DELETE = object()
COUNTRY_RULE = ("schema", 0, "properties", 3, "quality", 0)


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        (("schema", 0, "properties", 1, "logicalType"), "text",
         "schema[0].properties[1].logicalType", "'text' is not one of"),
        (("customProperties", 0, "value"), "Customer Relations",
         "customProperties", "'sourceSystem' is required: a lower-case identifier"),
        ((*COUNTRY_RULE, "arguments", "validValues"), [False, "SE"],
         "schema[0].properties[3].quality[0].arguments.validValues", "quote them"),
        (("customProperties", 3, "value", "sequenceColumn"), "updated",
         "customProperties", "cdc names 'updated', which is not a column"),
        ((*COUNTRY_RULE, "mustBe"), 5, "schema[0].properties[3].quality[0]", "mustBe: 0"),
        (("schema", 0, "properties", 0, "physicalType"), "BIGG INT",
         "schema[0].properties[0].physicalType", "is not a Spark SQL type"),
        ((*COUNTRY_RULE, "customProperties"), [{"property": "action", "value": "ignore"}],
         "schema[0].properties[3].quality[0].customProperties", "action must be one of"),
        (("schema", 0, "quality", 0, "query"), "SELECT op FROM ${table}",
         "schema[0].quality[0].query", "expected SELECT COUNT(*) FROM ${table} WHERE"),
        (("version",), "1.0", "version", "semantic version"),
        (("team",), _DELETE, "team", "'team.name' is required"),
        # `$` would let a trailing newline through into table and folder names
        (("customProperties", 0, "value"), "crm\n",
         "customProperties", "'sourceSystem' is required: a lower-case identifier"),
        (("version",), "1.0.0\n", "version", "semantic version"),
        # a rule reads only its own record, with deterministic built-in functions
        (("schema", 0, "quality", 0, "query"), "SELECT COUNT(*) FROM ${table} WHERE op IN (SELECT op FROM other)",
         "schema[0].quality[0].query", "no subqueries or other tables"),
        (("schema", 0, "quality", 0, "query"), "SELECT COUNT(*) FROM ${table} WHERE raise_error('x') IS NULL",
         "schema[0].quality[0].query", "'raise_error' is not a built-in function"),
        (("schema", 0, "quality", 0, "query"), "SELECT COUNT(*) FROM ${table} WHERE rand() > 0.5",
         "schema[0].quality[0].query", "'rand' is not deterministic"),
        (("schema", 0, "quality", 0, "query"), "SELECT COUNT(*) FROM ${table} WHERE nope = 1",
         "schema[0].quality[0].query", "'nope' is not a column of the dataset"),
    ],
    ids=["odcs-schema", "source-system", "yaml-boolean", "cdc-column", "threshold",
         "spark-type", "action", "sql-shape", "version", "owner", "newline-name",
         "newline-version", "subquery", "raise-error", "nondeterministic", "other-column"],
)  # fmt: skip
def test_each_broken_rule_is_reported_with_file_line_and_field(
    tmp_path, path, value, field, message
):
    file = _write(tmp_path, _set(_document(), path, value))
    problems = _problems(file)
    matching = [p for p in problems if f": {field}: " in p and message in p]
    assert matching, problems
    line = int(matching[0].split(":")[1])
    assert file.read_text().splitlines()[line - 1].strip()  # a line of the file


def test_a_declared_encoding_is_a_known_character_set(tmp_path):
    document = _document()
    document["customProperties"].append({"property": "encoding", "value": "latin-1"})
    assert load_contract(_write(tmp_path, document)).encoding == "iso8859-1"
    document["customProperties"][-1]["value"] = "klingon"
    problems = _problems(_write(tmp_path, document))
    assert any(": customProperties: " in p and "'encoding' must name" in p for p in problems)
    assert load_contract(CUSTOMERS).encoding == "utf-8"


def test_allow_overwrites_is_true_or_false(tmp_path):
    document = _document()
    document["customProperties"].append({"property": "allowOverwrites", "value": True})
    assert load_contract(_write(tmp_path, document)).allow_overwrites is True
    document["customProperties"][-1]["value"] = "yes"
    problems = _problems(_write(tmp_path, document))
    assert any(
        ": customProperties: " in p and "'allowOverwrites' must be true" in p for p in problems
    )
    assert load_contract(CUSTOMERS).allow_overwrites is False


@pytest.mark.parametrize(
    ("row_filter", "problem"),
    [
        ("country = 'NO'", None),
        ("nation = 'NO'", "'nation' is not a column of the dataset"),
        ("rand() < 0.5", "rand"),
        (42, "'rowFilter' must be a SQL condition"),
    ],
    ids=["valid", "unknown-column", "not-deterministic", "not-text"],
)
def test_a_row_filter_is_a_deterministic_condition_over_the_records_columns(tmp_path, row_filter, problem):  # fmt: skip
    document = _document()
    document["schema"][0]["customProperties"].append({"property": "rowFilter", "value": row_filter})
    file = _write(tmp_path, document)
    if problem is None:
        assert load_contract(file).row_filter == "country = 'NO'"
        return
    (found,) = _problems(file)
    assert ": schema[0].customProperties: " in found and problem in found, found


def test_every_schema_problem_is_reported_at_once(tmp_path):
    document = _set(_document(), ("schema", 0, "properties", 1, "logicalType"), "text")
    document = _set(document, ("schema", 0, "properties", 2, "required"), "yes")
    assert len(_problems(_write(tmp_path, document))) == 2


def test_a_key_repeated_in_one_mapping_is_an_error_naming_both_lines(tmp_path):
    file = tmp_path / "twice.yaml"
    file.write_text("apiVersion: v3.1.0\nkind: DataContract\nversion: 1.0.0\nversion: 2.0.0\n")
    (problem,) = _problems(file)
    assert problem.startswith(f"{file}:4: ")
    assert "key 'version' repeated (first on line 3)" in problem


def test_yaml_syntax_errors_name_their_line(tmp_path):
    file = tmp_path / "broken.yaml"
    file.write_text("apiVersion: v3.1.0\nkind: DataContract\nid: [unclosed\n")
    (problem,) = _problems(file)
    assert problem.startswith(f"{file}:") and "not valid YAML" in problem


def test_cli_validate_lists_problems_and_exits_non_zero(tmp_path):
    bad = _write(tmp_path, _set(_document(), ("version",), "1.0"), "bad.yaml")
    runner = CliRunner()
    assert runner.invoke(app, ["contracts", "validate", str(CUSTOMERS)]).exit_code == 0
    result = runner.invoke(app, ["contracts", "validate", str(CUSTOMERS), str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:4: version: expected a semantic version" in result.output


# Property-based: nothing a contract file holds crashes the loader, and every rejection says
# where.

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _check_rejection(file: Path) -> None:
    try:
        load_contract(file)
    except ContractError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.file == file and problem.line >= 1
            assert (
                problem.field
                or "'" in problem.message
                or "YAML" in problem.message
                or "mapping" in problem.message
            )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=documents)
def test_arbitrary_documents_are_rejected_with_a_location(tmp_path, document):
    _check_rejection(_write(tmp_path, document))


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, (*path, k))] or [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*path, i))] or [path]
    return [path]


LEAVES = _leaf_paths(_document())


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(LEAVES), value=scalars | st.just(_DELETE))
def test_a_mutated_example_loads_or_names_its_problem(tmp_path, path, value):
    _check_rejection(_write(tmp_path, _set(_document(), path, value)))

"""Silver generated from a contract: typed, checked, quarantined with reasons and lineage, and
applied with AUTO CDC as the contract says."""

from __future__ import annotations

import shutil

import pytest

from lakehouse.engine import ExpectationFailed, sql
from lakehouse.ingestion.settings import CONTRACTS
from tests.ingestion.test_bronze import CONTRACTS_DIR, _land, _run


def _customer(customer_id, name, changed_at, op="I", **values):
    return {"customer_id": customer_id, "name": name, "email": f"{name.lower()}@x.no",
            "country": "NO", "segment": "consumer", "op": op,
            "changed_at": f"2026-01-0{changed_at}T10:00:00", **values}  # fmt: skip


def test_silver_types_checks_quarantines_and_applies_scd2(spark, tmp_path):
    _land(
        tmp_path / "landing",
        "1.json",
        [
            _customer(1, "Ann", 1),
            _customer(1, "Anna", 2, op="U"),
            _customer(2, "Bo", 1, email="nope"),  # breaks email_well_formed: quarantined
            _customer("abc", "Cy", 1),  # not a BIGINT: quarantined
            _customer(4, "Di", 1, op="X"),  # breaks known_operation: dropped
            _customer(5, "Ed", 1),
            _customer(5, "Ed", 3, op="D"),
            _customer(6, "Flo", 1, country="US"),  # breaks known_country: kept, counted
        ],
    )
    result = _run(spark, tmp_path)
    storage = tmp_path / "storage"
    versions = sql(
        storage,
        "SELECT customer_id, name, __START_AT IS NOT NULL AS started, __END_AT IS NULL AS open "
        "FROM dev_silver.crm.customers ORDER BY customer_id, __START_AT",
    ).collect()
    assert [tuple(r) for r in versions] == [
        (1, "Ann", True, False),
        (1, "Anna", True, True),
        (5, "Ed", True, False),
        (6, "Flo", True, True),
    ]
    quarantined = sql(
        storage,
        "SELECT customer_id, _broken_rules, _source_file FROM dev_silver.crm.customers_quarantine "
        "ORDER BY customer_id",
    ).collect()
    assert [(r["customer_id"], r["_broken_rules"]) for r in quarantined] == [
        ("2", ["email_well_formed"]),
        ("abc", ["customer_id_is_bigint"]),
    ]
    assert all(r["_source_file"].endswith("1.json") for r in quarantined)
    assert result.expectation("dev_silver.crm.customers", "known_operation")["failed_records"] == 1
    assert result.expectation("dev_silver.crm.customers", "known_country")["failed_records"] == 1


def test_a_rule_that_stops_the_update_names_the_file_and_masks_the_record(spark, tmp_path):
    contracts = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, contracts)
    customers = contracts / "crm_customers.yaml"
    text = customers.read_text()
    rule = (
        '              validValues: ["NO", "SE", "DK", "FI", "DE", "GB"]\n            mustBe: 0\n'
    )
    assert rule in text
    stop = "            customProperties:\n              - property: action\n                value: fail\n"
    customers.write_text(text.replace(rule, rule + stop))
    landed = _land(tmp_path / "landing", "1.json", [_customer(7, "Gus", 1, country="US")])

    with pytest.raises(ExpectationFailed) as failure:
        _run(spark, tmp_path, **{CONTRACTS: str(contracts)})
    message = str(failure.value)
    assert "Expectation 'known_country' failed" in message
    assert f"from file file:{landed}" in message
    # Columns the contract classifies general show; the others (the key too) are masked.
    assert '"country": "US"' in message and '"segment": "consumer"' in message
    assert '"email": "<masked: confidential>"' in message and "gus@x.no" not in message

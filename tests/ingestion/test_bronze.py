"""Bronze generated from a contract keeps every landed record as it arrived, with its file,
its ingest time and whatever did not fit, append-only, run after run."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from deltalake import DeltaTable

from lakehouse.contracts import load_contract
from lakehouse.engine import ConfigurationError, run_pipeline, sql
from lakehouse.ingestion.landing_audit import Fate, audit_landing
from lakehouse.ingestion.settings import CONTRACTS, ENV, LANDING, SOURCE_SYSTEM

REPO = Path(__file__).resolve().parents[2]
PIPELINE = REPO / "src/lakehouse/ingestion/transformations/source_system.py"
CONTRACTS_DIR = REPO / "domains/sales/contracts"


def _land(landing: Path, name: str, records: list[dict]) -> Path:
    folder = landing / "crm" / "customers"
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / name
    file.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return file


def _run(spark, tmp_path: Path, **configuration: str):
    for dataset in ("customers", "orders"):  # the crm contracts' landing folders
        (tmp_path / "landing" / "crm" / dataset).mkdir(parents=True, exist_ok=True)
    return run_pipeline(
        [PIPELINE],
        storage=tmp_path / "storage",
        name="ingest_crm",
        configuration={
            SOURCE_SYSTEM: "crm",
            CONTRACTS: str(CONTRACTS_DIR),
            LANDING: str(tmp_path / "landing"),
            ENV: "dev",
            **configuration,
        },
        spark=spark,
    )


def test_bronze_keeps_every_record_as_landed_with_its_file(spark, tmp_path):
    good = {"customer_id": 1, "name": "Ann", "email": "ann@x.no", "country": "NO",
            "segment": "consumer", "op": "I", "changed_at": "2026-01-01T10:00:00"}  # fmt: skip
    odd = {**good, "customer_id": "not a number", "vip": True}
    first = _land(tmp_path / "landing", "1.json", [good, odd])
    _run(spark, tmp_path)
    rows = sql(
        tmp_path / "storage", "SELECT * FROM dev_bronze.crm.customers ORDER BY name"
    ).collect()
    assert [r["customer_id"] for r in rows] == ["1", "not a number"]  # text, as landed
    assert all(r["_source_file"].startswith("file:") for r in rows)
    assert {r["_source_file"].removeprefix("file:").lstrip("/") for r in rows} == {
        str(first).lstrip("/")
    }
    assert all(r["_ingested_at"] is not None for r in rows)
    assert str(json.loads(rows[1]["_rescued_data"])["vip"]).lower() == "true"

    _land(tmp_path / "landing", "2.json", [{**good, "customer_id": 2}])
    _run(spark, tmp_path)
    assert (
        sql(tmp_path / "storage", "SELECT count(*) AS n FROM dev_bronze.crm.customers").first()["n"]
        == 3
    )

    table = DeltaTable(str(tmp_path / "storage/catalog/dev_bronze/crm/customers"))
    properties = table.metadata().configuration
    assert properties["delta.appendOnly"] == "true"
    assert properties["delta.enableChangeDataFeed"] == "true"


def test_a_missing_configuration_key_is_named(spark, tmp_path):
    with pytest.raises(ConfigurationError, match=LANDING):
        _run(spark, tmp_path, **{LANDING: ""})


def test_a_contract_allowing_overwrites_reads_a_file_changed_in_place_again(spark, tmp_path):
    contracts = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, contracts)
    orders = contracts / "crm_orders.yaml"
    text = orders.read_text()
    landed_format = "  - property: fileFormat\n    value: json\n"
    assert landed_format in text
    allow = "  - property: allowOverwrites\n    value: true\n"
    orders.write_text(text.replace(landed_format, landed_format + allow))
    order = {"customer_id": 1, "ordered_at": "2026-01-05T09:30:00", "amount": 5, "currency": "EUR"}
    folder = tmp_path / "landing/crm/orders"
    folder.mkdir(parents=True)
    file = folder / "1.json"
    file.write_text(json.dumps({**order, "order_id": "o1"}) + "\n")  # still being written
    _run(spark, tmp_path, **{CONTRACTS: str(contracts)})

    file.write_text("".join(json.dumps({**order, "order_id": o}) + "\n" for o in ("o1", "o2")))
    later = file.stat().st_mtime_ns + 5_000_000_000
    os.utime(file, ns=(later, later))
    contract = load_contract(orders)
    storage, landing = tmp_path / "storage", tmp_path / "landing"
    ((changed,),) = [a.files for a in audit_landing([contract], storage=storage, landing=landing)]
    assert changed.fate is Fate.NOT_SEEN and "the next update reads it" in changed.detail

    _run(spark, tmp_path, **{CONTRACTS: str(contracts)})
    (audit,) = audit_landing([contract], storage=storage, landing=landing)
    assert audit.holds and [(f.fate, f.records, f.bronze_rows) for f in audit.files] == [
        (Fate.INGESTED, 2, 2)
    ]
    assert sql(storage, "SELECT count(*) AS n FROM dev_bronze.crm.orders").first()["n"] == 3
    silver = sql(storage, "SELECT order_id FROM dev_silver.crm.orders ORDER BY 1").collect()
    assert [r["order_id"] for r in silver] == ["o1", "o2"]  # o1 read twice: the first kept

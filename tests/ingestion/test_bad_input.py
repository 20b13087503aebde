"""Bad input never stops unrelated data: the corpus of good and bad landed files goes through
one CRM ingestion update, which succeeds; every record of every file ends in silver or in
silver's quarantine with its file named, and the other dataset is updated as usual."""

from __future__ import annotations

import base64
import json
from collections import Counter

from lakehouse.contracts import load_contract
from lakehouse.engine import sql
from lakehouse.ingestion import row_conservation
from tests.ingestion.bad_input import CORPUS, LATIN1_LINE
from tests.ingestion.test_bronze import CONTRACTS_DIR, _land, _run

CUSTOMER = {"customer_id": 1, "name": "Ann", "email": "ann@x.no", "country": "NO",
            "segment": "consumer", "op": "I", "changed_at": "2026-01-01T10:00:00"}  # fmt: skip


def test_each_landed_file_is_ingested_quarantined_or_skipped_by_the_name_rule(spark, tmp_path):
    orders = tmp_path / "landing/crm/orders"
    files = {case.category: case.land(orders) for case in CORPUS}
    _land(tmp_path / "landing", "c1.json", [CUSTOMER])

    result = _run(spark, tmp_path)

    storage = tmp_path / "storage"
    silver = sql(storage, "SELECT order_id, currency FROM dev_silver.crm.orders").collect()
    assert sorted(r["order_id"] for r in silver) == sorted(o for c in CORPUS for o in c.silver)
    assert {r["order_id"]: r["currency"] for r in silver}["o11"] == "EUR"  # the last value wins
    quarantine = sql(
        storage,
        "SELECT _broken_rules, _source_file, _rescued_data FROM dev_silver.crm.orders_quarantine",
    ).collect()
    reader_rules = {"file_readable", "record_readable"}
    by_file = Counter(
        (r["_source_file"].removeprefix("file:"), *(set(r["_broken_rules"]) & reader_rules))
        for r in quarantine
    )
    expected = Counter((str(files[c.category]), rule) for c in CORPUS for rule in c.quarantined)
    assert by_file == expected
    for row in quarantine:
        rescued = json.loads(row["_rescued_data"])
        assert rescued["_file_path"] == row["_source_file"]
        if "file_readable" in row["_broken_rules"]:
            assert rescued["_file_error"], rescued
    undecodable = [json.loads(r["_rescued_data"]).get("_undecodable_bytes") for r in quarantine]
    assert base64.b64encode(LATIN1_LINE).decode() in undecodable

    bronze = sql(
        storage, "SELECT order_id, _rescued_data FROM dev_bronze.crm.orders WHERE order_id = 'o12'"
    ).first()
    assert json.loads(bronze["_rescued_data"])["source._file_path"] == "/elsewhere/x.json"
    assert result.rows_written("dev_silver.crm.customers") == 1
    contract = load_contract(CONTRACTS_DIR / "crm_orders.yaml")
    check = row_conservation(result, contract, "dev")
    assert check.holds and check.quarantined == len(quarantine), check

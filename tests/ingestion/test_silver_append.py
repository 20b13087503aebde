"""Silver of a contract without CDC is appended to, its primary key stays unique (the first
landed wins), and every bronze row is accounted for: in silver, in quarantine, or dropped by a
rule (row conservation)."""

from __future__ import annotations

import json

from lakehouse.contracts import load_contract
from lakehouse.engine import sql
from lakehouse.ingestion import row_conservation
from tests.ingestion.test_bronze import CONTRACTS_DIR, _run

REQUIRED = ["order_id", "customer_id", "ordered_at", "amount"]


def _order(order_id, amount, currency="EUR", **values):
    return {"order_id": order_id, "customer_id": 1, "ordered_at": "2026-01-05T09:30:00",
            "amount": amount, "currency": currency, **values}  # fmt: skip


def test_append_silver_accounts_for_every_bronze_row(spark, tmp_path):
    folder = tmp_path / "landing/crm/orders"
    folder.mkdir(parents=True)
    orders = [
        _order("o1", 11),  # the key twice in one file: the smaller landed values win
        _order("o1", 10.5),
        _order("o2", -3),  # breaks positive_amount: dropped, counted
        _order("o3", 7, currency="XXX"),  # breaks known_currency: quarantined
        _order("o4", "a lot"),  # not a DECIMAL(12,2): quarantined
        _order("o5", 99.99, customer_id=None),  # a required column is NULL: quarantined
    ]
    lines = [json.dumps(o) for o in orders] + ['{"order_id": "o6", "amount": ']  # cut short
    (folder / "1.json").write_text("\n".join(lines) + "\n")
    result = _run(spark, tmp_path)
    storage = tmp_path / "storage"

    def count(table: str) -> int:
        return sql(storage, f"SELECT count(*) AS n FROM {table}").first()["n"]

    silver = sql(storage, "SELECT order_id, amount FROM dev_silver.crm.orders ORDER BY order_id")
    assert [(r["order_id"], float(r["amount"])) for r in silver.collect()] == [("o1", 10.5)]
    broken = sql(
        storage,
        "SELECT order_id, _broken_rules, _rescued_data FROM dev_silver.crm.orders_quarantine "
        "ORDER BY 1 NULLS LAST",
    ).collect()
    assert [(r["order_id"], r["_broken_rules"]) for r in broken] == [
        ("o1", ["duplicate_key"]),
        ("o3", ["known_currency"]),
        ("o4", ["amount_is_decimal_12_2"]),
        ("o5", ["customer_id_required"]),
        (None, [f"{c}_required" for c in REQUIRED] + ["record_readable"]),
    ]
    assert json.loads(broken[-1]["_rescued_data"])["_corrupt_record"] == lines[-1]
    dropped = result.expectation("dev_silver.crm.orders", "positive_amount")["failed_records"]
    assert dropped == 1
    bronze = count("dev_bronze.crm.orders")
    assert bronze == len(lines) == count("dev_silver.crm.orders") + len(broken) + dropped
    check = row_conservation(result, load_contract(CONTRACTS_DIR / "crm_orders.yaml"), "dev")
    assert (check.bronze, check.silver, check.quarantined, check.dropped) == (7, 1, 5, 1)

    # Re-delivered in a later update, and corrected: the first landed still wins.
    (folder / "2.json").write_text(
        json.dumps(_order("o1", 12)) + "\n" + json.dumps(_order("o7", 1)) + "\n"
    )
    again = _run(spark, tmp_path)
    silver = sql(storage, "SELECT order_id, amount FROM dev_silver.crm.orders ORDER BY order_id")
    assert [(r["order_id"], float(r["amount"])) for r in silver.collect()] == [
        ("o1", 10.5),
        ("o7", 1),
    ]
    later = row_conservation(again, load_contract(CONTRACTS_DIR / "crm_orders.yaml"), "dev")
    assert (later.bronze, later.silver, later.quarantined, later.dropped) == (2, 1, 1, 0)

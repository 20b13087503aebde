"""Bad input never stops unrelated data: the corpus of good and bad landed files goes through
one CRM ingestion update, which succeeds; every record of every file ends in silver or in
silver's quarantine with its file named, and the other dataset is updated as usual."""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.contracts import load_contract
from lakehouse.engine import UpdateResult, sql
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.engine.storage.delta_table import LocalDeltaTable
from lakehouse.engine.storage.driver_reads import read_delta
from lakehouse.ingestion import row_conservation
from lakehouse.ingestion.landing_audit import Fate, audit_landing
from tests.ingestion.bad_input import CORPUS, LATIN1_LINE, lines, order
from tests.ingestion.test_bronze import CONTRACTS_DIR, REPO, _land, _run

CUSTOMER = {"customer_id": 1, "name": "Ann", "email": "ann@x.no", "country": "NO",
            "segment": "consumer", "op": "I", "changed_at": "2026-01-01T10:00:00"}  # fmt: skip
CUSTOMERS = [
    CUSTOMER,
    # Same key and sequence, different contents: no order between them exists.
    {**CUSTOMER, "customer_id": 2, "name": "Bo"},
    {**CUSTOMER, "customer_id": 2, "name": "Bob"},
    # One instant written in two time zones is one sequence.
    {**CUSTOMER, "customer_id": 3, "changed_at": "2026-01-01T11:00:00+01:00"},
    {**CUSTOMER, "customer_id": 3, "changed_at": "2026-01-01T10:00:00Z", "email": "c@x.no"},
    # ...and when nothing else differs, it is one event delivered twice.
    {**CUSTOMER, "customer_id": 4, "changed_at": "2026-01-01T11:00:00+01:00"},
    {**CUSTOMER, "customer_id": 4, "changed_at": "2026-01-01T10:00:00Z"},
]


def _cause(broken_rules: list[str]) -> str:
    """Why a record was quarantined: what the reader found, else the rule the corpus pins
    (an unreadable record breaks every required column's rule too)."""
    pinned = {rule for case in CORPUS for rule in case.quarantined}
    for reader_rule in ("file_readable", "record_readable"):
        if reader_rule in broken_rules:
            return reader_rule
    (cause,) = set(broken_rules) & pinned
    return cause


@dataclass(frozen=True)
class CorpusUpdate:
    root: Path
    files: dict[str, Path]  # category -> landed file
    result: UpdateResult


@pytest.fixture(scope="module")
def corpus_update(spark, tmp_path_factory) -> CorpusUpdate:
    """One CRM ingestion update over the whole corpus (and a customers file)."""
    root = tmp_path_factory.mktemp("corpus")
    files = {case.category: case.land(root / "landing/crm/orders") for case in CORPUS}
    _land(root / "landing", "c1.json", CUSTOMERS)
    return CorpusUpdate(root, files, _run(spark, root))


def test_each_landed_file_is_ingested_quarantined_or_skipped_by_the_name_rule(corpus_update, spark):
    files, result = corpus_update.files, corpus_update.result
    storage = corpus_update.root / "storage"
    silver = sql(storage, "SELECT order_id, currency FROM dev_silver.crm.orders").collect()
    assert sorted(r["order_id"] for r in silver) == sorted(o for c in CORPUS for o in c.silver)
    assert {r["order_id"]: r["currency"] for r in silver}["o11"] == "EUR"  # the last value wins
    quarantine = sql(
        storage,
        "SELECT _broken_rules, _source_file, _rescued_data FROM dev_silver.crm.orders_quarantine",
    ).collect()
    by_file = Counter(
        (r["_source_file"].removeprefix("file:"), _cause(r["_broken_rules"])) for r in quarantine
    )
    expected = Counter((str(files[c.category]), rule) for c in CORPUS for rule in c.quarantined)
    assert by_file == expected
    unreadable = [r for r in quarantine if _cause(r["_broken_rules"]).endswith("_readable")]
    for row in unreadable:  # the file, and what the reader found, are kept
        rescued = json.loads(row["_rescued_data"])
        assert rescued["_file_path"] == row["_source_file"]
        if "file_readable" in row["_broken_rules"]:
            assert rescued["_file_error"], rescued
    undecodable = [json.loads(r["_rescued_data"]).get("_undecodable_bytes") for r in unreadable]
    assert base64.b64encode(LATIN1_LINE).decode() in undecodable

    bronze = sql(
        storage, "SELECT order_id, _rescued_data FROM dev_bronze.crm.orders WHERE order_id = 'o12'"
    ).first()
    assert json.loads(bronze["_rescued_data"])["source._file_path"] == "/elsewhere/x.json"
    # The ends of Spark's timestamp range reach silver and read back, Python's limits aside.
    table = LocalDeltaTable(storage / "catalog/dev_silver/crm/orders")
    ends = read_delta(spark, table, streaming=False).where("order_id IN ('o60', 'o61')")
    assert sorted(str(r[0]) for r in ends.selectExpr("CAST(ordered_at AS STRING)").collect()) == [
        "0001-01-01 00:00:00",
        "9999-12-31 23:59:59",
    ]
    query = "SELECT order_id, ordered_at FROM dev_silver.crm.orders WHERE order_id = 'o60'"
    shown = CliRunner().invoke(app, ["sql", "--storage", str(storage), query, "--format", "json"])
    assert shown.exit_code == 0 and '"ordered_at": "0001-01-01 00:00:00"' in shown.output
    customers = sql(storage, "SELECT customer_id FROM dev_silver.crm.customers").collect()
    assert sorted(r["customer_id"] for r in customers) == [1, 4]
    conflicts = sql(
        storage,
        "SELECT customer_id, _broken_rules FROM dev_silver.crm.customers_quarantine",
    ).collect()
    assert sorted((r["customer_id"], r["_broken_rules"]) for r in conflicts) == [
        (key, ["conflicting_change_event"]) for key in ("2", "2", "3", "3")
    ]
    contract = load_contract(CONTRACTS_DIR / "crm_orders.yaml")
    check = row_conservation(result, contract, "dev")
    assert check.holds and check.quarantined == len(quarantine), check


def _fates(root: Path) -> dict[str, Fate]:
    contract = load_contract(CONTRACTS_DIR / "crm_orders.yaml")
    (audit,) = audit_landing([contract], storage=root / "storage", landing=root / "landing")
    return {str(f.path): f.fate for f in audit.files}


def test_the_landing_audit_accounts_for_every_landed_file_from_the_landing_folder(
    corpus_update,
):
    root = corpus_update.root
    expected = {
        case.path: Fate.IGNORED
        if case.ignored
        else Fate.UNREADABLE
        if "file_readable" in case.quarantined
        else Fate.INGESTED
        for case in CORPUS
    }
    assert _fates(root) == expected

    orders = root / "landing/crm/orders"
    grown = orders / "o1.json"  # completed in place after it was read
    grown.write_bytes(grown.read_bytes() + lines(order("o1b")))
    resent = orders / "o10.json"  # corrected and re-delivered with its old time
    times = resent.stat()
    resent.write_bytes(lines(order("o10"), order("o10b")))
    os.utime(resent, ns=(times.st_atime_ns, times.st_mtime_ns))
    (orders / "2026/03/03").mkdir()
    (orders / "2026/03/03/o50.json").write_bytes(lines(order("o50")))  # after the update
    fates = _fates(root)
    assert (fates["o1.json"], fates["o10.json"]) == (Fate.CHANGED, Fate.ROWS_MISSING)
    assert fates["2026/03/03/o50.json"] == Fate.NOT_SEEN

    storage, landing = root / "storage", root / "landing"
    command = ["landing", "audit", "--storage", str(storage), "--landing", str(landing),
               "--domain", "sales", "--root", str(REPO)]  # fmt: skip
    run = CliRunner().invoke(app, command)
    assert run.exit_code == 1, run.output
    assert "crm.orders:" in run.output and "2 unaccounted for" in run.output
    assert "changed after ingestion: o1.json" in run.output
    saved = sql(storage, "SELECT file, fate, accounted FROM dev_platform.monitoring.landing_audit")
    assert ("o1.json", "changed after ingestion", False) in [tuple(r) for r in saved.collect()]
    audit_table = TableName("dev_platform", "monitoring", "landing_audit")
    assert LocalCatalog(storage).table(audit_table).properties() == {
        "lakehouse.classification": "general"
    }

    wide = {"COLUMNS": "300"}  # the error box would wrap the message
    unknown = CliRunner().invoke(
        app, [*command[:-4], "--domain", "nope", "--root", str(REPO)], env=wide
    )
    assert unknown.exit_code == 2 and "no domain 'nope'" in unknown.output
    missing = CliRunner().invoke(app, ["landing", "audit", "--storage", str(root / "x")], env=wide)
    assert missing.exit_code == 2 and "no such folder" in missing.output

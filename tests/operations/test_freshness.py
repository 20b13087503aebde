"""`lakehouse monitor`: each dataset's freshness against its contract's SLA, from the landed
files, the tables' commit history and the event log; a breach exits 1 and every check is kept
in a Delta table."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import deltalake
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.ingestion.bronze import INGESTED_AT, SOURCE_FILE
from lakehouse.ingestion.table_metadata import RESCUED
from lakehouse.operations.freshness import Status, check_freshness
from lakehouse.operations.observations import LocalObservations
from lakehouse.platform.domains import Domain

REPO = Path(__file__).resolve().parents[2]
HR = Domain(REPO / "domains/hr")  # hris.employees: latency 1 day, freshness 1 day
NOW = dt.datetime.now(dt.UTC)


def _append(storage: Path, name: str, rows: list[dict]) -> None:
    LocalCatalog(storage).table(TableName(*name.split("."))).append(pa.Table.from_pylist(rows))


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    """hr's tables as an update leaves them, and a landed file ingestion has not seen yet."""
    storage = tmp_path / "storage"
    # Bronze as ingestion writes it (the landing audit reads its file columns); an earlier file.
    bronze = {SOURCE_FILE: "file:/landed/earlier.json", INGESTED_AT: NOW, RESCUED: None}
    _append(storage, "dev_bronze.hris.employees", [{"employee_id": 1, **bronze}])
    for table in ("dev_silver.hris.employees", "dev_gold.hr.headcount_by_department"):
        _append(storage, table, [{"id": 1}])
    completed = json.dumps({"update_progress": {"state": "COMPLETED"}})
    origin = {"pipeline_name": "hris_ingestion", "update_id": "u1"}
    _append(storage, "dev_bronze.hris.event_log", [{"timestamp": NOW, "event_type": "update_progress", "origin": origin, "details": completed}])  # fmt: skip
    _land(storage, hours_ago=2)
    return storage


def _land(storage: Path, hours_ago: float) -> Path:
    folder = storage / "landing/hris/employees"
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"batch-{hours_ago}.json"
    file.write_text('{"employee_id": 1}\n')
    at = (NOW - dt.timedelta(hours=hours_ago)).timestamp()
    os.utime(file, (at, at))
    return file


def test_a_dataset_within_its_sla_is_ok_and_says_when_each_layer_changed(storage):
    (result,) = check_freshness([HR], LocalObservations(storage), now=NOW + dt.timedelta(minutes=5))
    assert (result.dataset, result.status) == ("hris.employees", Status.OK)
    assert result.latency == result.freshness == dt.timedelta(days=1)
    assert abs((result.landed - (NOW - dt.timedelta(hours=2))).total_seconds()) < 1
    assert result.waiting_since == result.landed  # no ingestion state: not seen yet
    assert result.last_update == NOW  # the event log's completed update
    for changed in (result.bronze, result.silver, result.gold):  # committed by the fixture
        assert NOW - dt.timedelta(seconds=1) <= changed <= dt.datetime.now(dt.UTC)


def test_silver_older_than_the_freshness_sla_is_stale(storage):
    (result,) = check_freshness([HR], LocalObservations(storage), now=NOW + dt.timedelta(days=2))
    assert result.status == Status.STALE and result.age > dt.timedelta(days=1)


def test_a_landed_file_waiting_longer_than_the_latency_sla_is_late(storage):
    _land(storage, hours_ago=30)
    (result,) = check_freshness([HR], LocalObservations(storage), now=NOW)
    assert result.status == Status.LATE and result.waiting > dt.timedelta(days=1)


def test_monitor_exits_non_zero_on_a_breach_and_keeps_every_check(storage):
    _land(storage, hours_ago=30)
    root = ["--root", str(REPO), "--storage", str(storage)]
    result = CliRunner().invoke(app, ["monitor", *root])
    assert result.exit_code == 1
    assert "hr/hris.employees" in result.output and "late" in result.output
    assert "alert: hr/hris.employees is late" in result.output
    assert "sales/crm.orders" in result.output and "no data" in result.output  # never ingested
    CliRunner().invoke(app, ["monitor", *root])
    kept = deltalake.DeltaTable(str(storage / "catalog/dev_platform/monitoring/freshness"))
    rows = kept.to_pyarrow_table().to_pylist()
    assert len(rows) == 2 * 5  # every dataset of every domain, per check
    hr = [r for r in rows if r["dataset"] == "hris.employees"]
    assert {r["status"] for r in hr} == {"late"} and hr[0]["latency_sla_seconds"] == 86400
    assert hr[0]["waiting_seconds"] > 86400


def test_monitor_names_a_missing_storage_or_landing_folder(tmp_path):
    missing = CliRunner().invoke(app, ["monitor", "--root", str(REPO), "--storage", str(tmp_path / "nope")])  # fmt: skip
    assert missing.exit_code == 2 and "no such folder" in missing.output
    (tmp_path / "storage").mkdir()
    landing = CliRunner().invoke(app, ["monitor", "--root", str(REPO), "--storage", str(tmp_path / "storage")])  # fmt: skip
    assert landing.exit_code == 2 and "--landing" in landing.output

"""Data-quality trends: every completed update's expectation results and row conservation,
read from the event log into Delta tables once each; a lost row fails `lakehouse monitor`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import deltalake
import pyarrow as pa
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.operations.observations import LocalObservations
from lakehouse.operations.quality_trends import record_quality
from lakehouse.platform.domains import Domain

REPO = Path(__file__).resolve().parents[2]
HR = Domain(REPO / "domains/hr")
AT = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)


def _event(update: str, event_type: str, details: dict, flow: str | None = None, dataset: str | None = None) -> dict:  # fmt: skip
    origin = {"pipeline_name": "hris_ingestion", "update_id": update, "flow_name": flow, "dataset_name": dataset}  # fmt: skip
    at = AT + dt.timedelta(minutes=int(update.lstrip("u")))  # u1, u2, ... one after the other
    return {"timestamp": at, "event_type": event_type, "origin": origin, "details": json.dumps(details)}  # fmt: skip


def _update(update: str, bronze: int, silver: int, quarantined: int, dropped: int) -> list[dict]:
    """One ingestion update of hris.employees as the engine logs it (AUTO CDC into silver)."""

    def flow(name: str, dataset: str, metrics: dict, quality: dict | None = None) -> dict:
        progress = {"status": "COMPLETED", "metrics": metrics, "data_quality": quality or {"dropped_records": 0, "expectations": []}}  # fmt: skip
        return _event(update, "flow_progress", {"flow_progress": progress}, name, dataset)

    checks = [{"name": "known_department", "dataset": "dev_silver.hris.employees", "passed_records": silver, "failed_records": quarantined}]  # fmt: skip
    return [
        flow("employees", "dev_bronze.hris.employees", {"num_output_rows": bronze}),
        flow(
            "employees_cdc",
            "dev_silver.hris.employees",
            {"num_output_rows": silver, "num_change_events": silver},
            {"dropped_records": dropped, "expectations": checks},
        ),
        flow(
            "employees_quarantine",
            "dev_silver.hris.employees_quarantine",
            {"num_output_rows": quarantined},
        ),
        _event(update, "update_progress", {"update_progress": {"state": "COMPLETED"}}),
    ]


def _log(storage: Path, events: list[dict]) -> None:
    LocalCatalog(storage).table(TableName("dev_bronze", "hris", "event_log")).append(pa.Table.from_pylist(events))  # fmt: skip


def test_each_update_is_recorded_once_with_its_expectations_and_conservation(tmp_path):
    _log(tmp_path, _update("u1", bronze=10, silver=8, quarantined=1, dropped=1))
    first = record_quality([HR], LocalObservations(tmp_path))
    assert first.updates == 1 and first.not_conserved == []
    (check,) = first.conservation
    assert (check["dataset"], check["bronze_rows"], check["quarantine_rate"]) == ("employees", 10, 1 / 9)  # fmt: skip
    (result,) = first.expectations
    assert (result["expectation"], result["passed_records"], result["failed_records"]) == ("known_department", 8, 1)  # fmt: skip
    _log(tmp_path, _update("u2", bronze=5, silver=5, quarantined=0, dropped=0))
    second = record_quality([HR], LocalObservations(tmp_path))
    assert second.updates == 1 and [c["update_id"] for c in second.conservation] == ["u2"]
    kept = deltalake.DeltaTable(str(tmp_path / "catalog/dev_platform/monitoring/conservation"))
    assert sorted(kept.to_pyarrow_table().column("update_id").to_pylist()) == ["u1", "u2"]
    assert record_quality([HR], LocalObservations(tmp_path)).updates == 0


def test_an_update_that_lost_rows_fails_monitor_and_says_where_they_went(tmp_path):
    storage = tmp_path / "storage"
    (storage / "landing").mkdir(parents=True)
    _log(storage, _update("u1", bronze=10, silver=7, quarantined=1, dropped=1))
    result = CliRunner().invoke(app, ["monitor", "--storage", str(storage), "--root", str(REPO)])
    assert result.exit_code == 1
    assert "alert: not conserved: employees: bronze 10 != silver 7 + quarantined 1 + dropped 1" in result.output  # fmt: skip


def test_an_expectation_failing_twice_as_often_as_before_is_a_quality_drop(tmp_path):
    storage = tmp_path / "storage"
    (storage / "landing").mkdir(parents=True)
    for update in ("u1", "u2"):  # 1 in 100 fails
        _log(storage, _update(update, bronze=100, silver=99, quarantined=1, dropped=0))
    _log(storage, _update("u3", bronze=100, silver=97, quarantined=3, dropped=0))  # noise
    assert record_quality([HR], LocalObservations(storage)).drops == []
    _log(storage, _update("u4", bronze=100, silver=80, quarantined=20, dropped=0))
    result = CliRunner().invoke(app, ["monitor", "--storage", str(storage), "--root", str(REPO)])
    assert result.exit_code == 1
    assert (
        "alert: quality drop: dev_silver.hris.employees: known_department failed 20.0% of 100 "
        "records in update u4, against 1.7% before"
    ) in " ".join(result.output.split())

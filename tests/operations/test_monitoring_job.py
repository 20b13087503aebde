"""Each domain's monitoring job: the same check as `lakehouse monitor`, reading a workspace. The
workspace's SQL is real Spark SQL over Delta tables (the local engine's `sql`), its Unity
Catalog and Files APIs are tests/fake_workspace_api.py, reached through databricks-sdk."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest

from lakehouse.engine import sql
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.ingestion.bronze import INGESTED_AT, SOURCE_FILE
from lakehouse.ingestion.table_metadata import RESCUED
from lakehouse.operations import monitoring_job
from lakehouse.operations.monitoring import run_checks
from lakehouse.operations.observations import LocalObservations, WorkspaceObservations
from lakehouse.platform.domains import Domain
from tests.fake_workspace_api import FakeWorkspaceApi

REPO = Path(__file__).resolve().parents[2]
HR = Domain(REPO / "domains/hr")  # hris.employees: latency 1 day, freshness 1 day
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
VOLUME = "/Volumes/prod_landing/hris/employees"


def _append(storage: Path, name: str, rows: list[dict]) -> None:
    LocalCatalog(storage).table(TableName(*name.split("."))).append(pa.Table.from_pylist(rows))


def _event(pipeline: str, update: str, event_type: str, details: dict, at: dt.datetime, message: str = "") -> dict:  # fmt: skip
    origin = {"pipeline_name": pipeline, "update_id": update, "flow_name": None, "dataset_name": None}  # fmt: skip
    return {"timestamp": at, "event_type": event_type, "level": "INFO", "message": message, "origin": origin, "details": json.dumps({event_type: details})}  # fmt: skip


def _ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    """hr in prod: one file ingested into bronze, silver and gold written, an ingestion update
    that completed with an expectation result, and a gold update that failed."""
    storage = tmp_path / "storage"
    read = {SOURCE_FILE: f"dbfs:{VOLUME}/2026/batch-1.json", INGESTED_AT: NOW, RESCUED: None}
    _append(storage, "prod_bronze.hris.employees", [{"employee_id": 1, **read}])
    _append(storage, "prod_silver.hris.employees", [{"employee_id": 1}])
    _append(storage, "prod_gold.hr.headcount_by_department", [{"department": "x", "headcount": 1}])
    checked = [{"name": "known_operation", "dataset": "prod_silver.hris.employees", "passed_records": 9, "failed_records": 1}]  # fmt: skip
    progress = {"status": "COMPLETED", "metrics": {"num_output_rows": 9}, "data_quality": {"dropped_records": 0, "expectations": checked}}  # fmt: skip
    _append(storage, "prod_bronze.hris.event_log", [
        _event("hris_ingestion", "i1", "create_update", {}, NOW),
        _event("hris_ingestion", "i1", "flow_progress", progress, NOW),
        _event("hris_ingestion", "i1", "update_progress", {"state": "COMPLETED"}, NOW + dt.timedelta(seconds=5)),
    ])  # fmt: skip
    _append(storage, "prod_gold.hr.event_log", [
        _event("hr_gold", "g1", "create_update", {}, NOW),
        _event("hr_gold", "g1", "update_progress", {"state": "FAILED"}, NOW, "cannot resolve column 'dept'"),
    ])  # fmt: skip
    return storage


def test_the_job_reads_history_event_logs_and_volumes_and_alerts_the_owner(storage, spark):
    with FakeWorkspaceApi() as api:
        api.add_table("prod_gold.hr.headcount_by_department", {}, "MATERIALIZED_VIEW")
        api.add_table("prod_gold.hr.event_log", {})
        api.add_file(f"{VOLUME}/2026/batch-1.json", _ms(NOW - dt.timedelta(minutes=5)))  # read
        unread = NOW + dt.timedelta(minutes=1)  # landed after bronze last changed
        api.add_file(f"{VOLUME}/2026/batch-2.json", _ms(unread))
        api.add_file(f"{VOLUME}/_tmp/partial.json", _ms(NOW - dt.timedelta(days=3)))  # skipped
        observed = WorkspaceObservations(
            lambda query: sql(storage, query, spark=spark),
            api.client(),
            LocalObservations(storage).append,  # the job appends with saveAsTable
        )
        later = NOW + dt.timedelta(days=2)
        check = run_checks([HR], observed, env="prod", now=later)
        again = run_checks([HR], observed, env="prod", now=later)

    (result,) = check.freshness
    assert result.waiting_since == unread and result.landed == unread
    assert None not in (result.bronze, result.silver, result.gold)  # DESCRIBE HISTORY, via Spark
    assert result.last_update == NOW + dt.timedelta(seconds=5)
    assert result.status == "stale"  # silver unchanged for two days; the file waits as long
    assert check.alerts == [
        "hr/hris.employees is stale",
        "hr_gold's last update FAILED: cannot resolve column 'dept'",
    ]
    assert [(e["expectation"], e["failed_records"]) for e in check.quality.expectations] == [("known_operation", 1)]  # fmt: skip
    assert again.quality.updates == 0  # each update is recorded once
    kept = sql(storage, "SELECT status FROM prod_platform.monitoring.freshness", spark=spark)
    assert [r.status for r in kept.collect()] == ["stale", "stale"]
    listed = {c.path for c in api.api_calls("GET") if c.path.startswith("/api/2.0/fs/")}
    assert f"/api/2.0/fs/directories{VOLUME}/_tmp" not in listed  # hidden folders are skipped


def test_the_job_names_an_unknown_domain_and_the_ones_there_are(capsys):
    with pytest.raises(SystemExit) as exited:
        monitoring_job.main(["--env", "prod", "--domain", "nope", "--root", str(REPO)])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "no domain 'nope'" in error and "expected one of finance, hr, sales" in error

"""`lakehouse report`: one HTML page per storage folder, gathered from the event logs and
tables without Spark: the pipeline graph, rows per hop, conservation, expectations, freshness
and recent updates. (The demo's page is checked in Chromium by tests/test_demo.py.)"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.ingestion.bronze import INGESTED_AT, SOURCE_FILE
from lakehouse.ingestion.table_metadata import RESCUED
from lakehouse.operations.report_page import NODE_HEIGHT, NODE_WIDTH, layout_graph, render_report
from lakehouse.operations.run_report import build_report
from lakehouse.platform.domains import Domain

REPO = Path(__file__).resolve().parents[2]
HR = Domain(REPO / "domains/hr")  # hris.employees into silver, then hr's gold
AT = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)
BRONZE, SILVER = "dev_bronze.hris.employees", "dev_silver.hris.employees"
QUARANTINE, GOLD = f"{SILVER}_quarantine", "dev_gold.hr.headcount_by_department"


def _event(pipeline: str, update: str, minute: int, event_type: str, details: dict, flow: str | None = None, dataset: str | None = None, message: str = "") -> dict:  # fmt: skip
    origin = {"pipeline_name": pipeline, "update_id": update, "flow_name": flow, "dataset_name": dataset}  # fmt: skip
    at = AT + dt.timedelta(minutes=minute)
    return {"timestamp": at, "event_type": event_type, "level": "INFO", "message": message, "origin": origin, "details": json.dumps({event_type: details})}  # fmt: skip


def _ingestion(update: str, minute: int, bronze: int, silver: int, quarantined: int, dropped: int) -> list[dict]:  # fmt: skip
    """One hris ingestion update as the engine logs it: the graph, each flow, the end."""

    def event(*args, **kwargs) -> dict:
        return _event("hris_ingestion", update, minute, *args, **kwargs)

    def flow(name: str, dataset: str, rows: int, quality: dict | None = None) -> dict:
        progress = {"status": "COMPLETED", "metrics": {"num_output_rows": rows}, "data_quality": quality or {"dropped_records": 0, "expectations": []}}  # fmt: skip
        return event("flow_progress", progress, flow=name, dataset=dataset)

    checks = [{"name": "known_operation", "dataset": SILVER, "passed_records": silver, "failed_records": quarantined}]  # fmt: skip
    graph = [("employees", BRONZE, []), ("employees_checked", "employees_checked", [BRONZE]), ("employees_cdc", SILVER, ["employees_checked"]), ("employees_quarantine", QUARANTINE, ["employees_checked"])]  # fmt: skip
    return [
        event("create_update", {"full_refresh": False, "refresh_selection": []}),
        *(
            event(
                "dataset_definition",
                {"dataset_type": "view" if "." not in d else "streaming_table"},
                dataset=d,
            )
            for _, d, _ in graph
        ),
        *(
            event("flow_definition", {"output_dataset": d, "input_datasets": i}, flow=f, dataset=d)
            for f, d, i in graph
        ),
        flow("employees", BRONZE, bronze),
        flow("employees_cdc", SILVER, silver, {"dropped_records": dropped, "expectations": checks}),
        flow("employees_quarantine", QUARANTINE, quarantined),
        event("update_progress", {"state": "COMPLETED"}),
    ]


def _gold(update: str, minute: int, state: str = "COMPLETED", error: str = "") -> list[dict]:
    def event(*args, **kwargs) -> dict:
        return _event("hr_gold", update, minute, *args, **kwargs)

    progress = {"status": "COMPLETED", "metrics": {"num_output_rows": 3}}
    return [
        event("create_update", {"full_refresh": True, "refresh_selection": []}),
        event("dataset_definition", {"dataset_type": "materialized_view"}, dataset=GOLD),
        event(
            "flow_definition",
            {"output_dataset": GOLD, "input_datasets": [SILVER]},
            flow=GOLD,
            dataset=GOLD,
        ),
        *(
            [event("flow_progress", progress, flow=GOLD, dataset=GOLD)]
            if state == "COMPLETED"
            else []
        ),
        event("update_progress", {"state": state}, message=error),
    ]


def _append(storage: Path, name: str, rows: list[dict]) -> None:
    LocalCatalog(storage).table(TableName(*name.split("."))).append(pa.Table.from_pylist(rows))


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    """hr after two ingestion updates and a gold update; a file landed since."""
    storage = tmp_path / "storage"
    _append(storage, "dev_bronze.hris.event_log", _ingestion("u1", 0, 10, 8, 1, 1) + _ingestion("u2", 5, 4, 4, 0, 0))  # fmt: skip
    _append(storage, "dev_gold.hr.event_log", _gold("g1", 6))
    # Bronze as ingestion writes it (the landing audit reads its file columns).
    landed = {SOURCE_FILE: "file:/landed/earlier.json", INGESTED_AT: AT, RESCUED: None}
    _append(storage, BRONZE, [{"employee_id": n, **landed} for n in range(14)])
    for table, rows in ((SILVER, 9), (QUARANTINE, 1), (GOLD, 3)):
        _append(storage, table, [{"id": n} for n in range(rows)])
    folder = storage / "landing/hris/employees"
    folder.mkdir(parents=True)
    (folder / "batch-3.json").write_text('{"employee_id": 1}\n')
    return storage


def test_the_graph_runs_from_the_landing_folder_through_bronze_and_silver_to_gold(storage):
    (hr,) = build_report([HR], storage, now=AT + dt.timedelta(hours=1)).domains
    layers = {node.key: node.layer for node in hr.graph.nodes}
    assert layers == {
        "landing/hris/employees": "landing",
        BRONZE: "bronze",
        "hris_ingestion:employees_checked": "view",  # a view is its pipeline's own
        SILVER: "silver",
        QUARANTINE: "quarantine",
        GOLD: "gold",
    }
    edges = {(e.source, e.target) for e in hr.graph.edges}
    assert ("landing/hris/employees", BRONZE) in edges and (SILVER, GOLD) in edges
    assert ("hris_ingestion:employees_checked", QUARANTINE) in edges
    # Laid out left to right in that order, and no two nodes overlap.
    placed = {p.node.key: p for p in layout_graph(hr.graph).nodes}
    xs = [placed[k].x for k in ("landing/hris/employees", BRONZE, "hris_ingestion:employees_checked", SILVER, GOLD)]  # fmt: skip
    assert xs == sorted(xs) and len(set(xs)) == 5
    boxes = [(p.x, p.y) for p in placed.values()]
    for i, (x, y) in enumerate(boxes):
        for x2, y2 in boxes[i + 1 :]:
            assert abs(x - x2) >= NODE_WIDTH or abs(y - y2) >= NODE_HEIGHT


def test_rows_per_hop_add_up_every_update_and_a_lost_row_is_a_problem(storage):
    (hr,) = build_report([HR], storage, now=AT + dt.timedelta(hours=1)).domains
    (hops,) = hr.hops
    assert (hops.read_from_bronze, hops.to_silver, hops.quarantined, hops.dropped) == (14, 12, 1, 1)
    assert (hops.bronze_rows, hops.silver_rows, hops.quarantine_rows) == (14, 9, 1)
    assert (hops.files, hops.conserved) == (1, True)
    assert [(e.expectation, e.passed, e.failed, e.last_failed) for e in hr.expectations] == [("known_operation", 12, 1, 0)]  # fmt: skip
    assert [(g.name, g.rows, g.last_written) for g in hr.gold] == [(GOLD, 3, 3)]
    assert [(u.pipeline, u.state) for u in hr.updates] == [("hr_gold", "COMPLETED"), ("hris_ingestion", "COMPLETED"), ("hris_ingestion", "COMPLETED")]  # fmt: skip
    assert hr.problems == []

    _append(storage, "dev_bronze.hris.event_log", _ingestion("u3", 9, 5, 3, 0, 0))  # 2 rows gone
    (hr,) = build_report([HR], storage, now=AT + dt.timedelta(hours=1)).domains
    assert hr.hops[0].lost_updates == 1
    assert hr.problems == ["hris.employees lost rows"]


def test_a_failed_update_is_a_problem_shown_escaped_in_the_page(storage):
    error = "<script>alert('x')</script> cannot resolve column"
    _append(storage, "dev_gold.hr.event_log", _gold("g2", 8, state="FAILED", error=error))
    report = build_report([HR], storage, now=AT + dt.timedelta(hours=1))
    assert report.domains[0].problems == ["hr_gold's last update FAILED"]
    page = render_report(report)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)" in page
    assert page.count("<script>") == 1  # the page's own lineage script
    assert not re.search(r"""(src|href)=["']https?:""", page)  # nothing fetched from anywhere
    assert "hr_gold&#39;s last update FAILED" in page


def test_report_writes_the_page_prints_its_path_and_names_bad_options(storage, tmp_path):
    runner = CliRunner()
    out = tmp_path / "pages" / "run.html"
    result = runner.invoke(app, ["report", "--storage", str(storage), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(str(out.resolve()))
    assert "headcount_by_department" in out.read_text()
    default = runner.invoke(app, ["report", "--storage", str(storage)])
    assert default.exit_code == 0 and (storage / "report.html").is_file()

    missing = runner.invoke(app, ["report", "--storage", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "--storage" in missing.output
    folder = runner.invoke(app, ["report", "--storage", str(storage), "--out", str(tmp_path)])
    assert folder.exit_code == 2 and "is a folder" in folder.output

"""The command line contract: flags, exit codes, summary and JSON output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from tests.conftest import ORDERS
from tests.engine.test_datasets import CHECKED_ORDERS_PIPELINE as PIPELINE
from tests.engine.test_datasets import STREAM_ORDERS


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _run(runner, workspace, *extra: str):
    return runner.invoke(
        app,
        [
            "pipeline",
            "run",
            str(workspace.src),
            "--storage",
            str(workspace.storage),
            "--schema",
            "sales",
            "--conf",
            f"landing={workspace.landing}",
            *extra,
        ],
    )


def test_pipeline_run_prints_a_summary_per_dataset_and_exits_zero(runner, workspace, spark):
    workspace.source(PIPELINE)
    workspace.land("a.json", ORDERS)
    result = _run(runner, workspace)
    assert result.exit_code == 0, result.output
    assert "main.sales.orders" in result.stdout
    summary_row = next(line for line in result.stdout.splitlines() if "main.sales.orders" in line)
    assert [cell.strip() for cell in summary_row.split("│")[1:-1]] == [
        "main.sales.orders",
        "streaming_table",
        "3",
        "3",
        "1",
        "1",
    ]


def test_pipeline_run_exits_non_zero_with_one_paragraph_on_a_graph_error(runner, workspace, spark):
    workspace.source(
        STREAM_ORDERS + "\n    @dlt.table\n    def t():\n        return dlt.read('nope')\n"
    )
    result = _run(runner, workspace)
    assert result.exit_code == 1
    assert "error:" in result.output and "unknown dataset 'nope'" in result.output
    assert "Traceback" not in result.output


def test_pipeline_run_rejects_malformed_conf(runner, workspace):
    workspace.source(PIPELINE)
    result = runner.invoke(
        app,
        [
            "pipeline",
            "run",
            str(workspace.src),
            "--storage",
            str(workspace.storage),
            "--conf",
            "novalue",
        ],
    )
    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.output


def test_pipeline_run_takes_the_pipelines_settings_file(runner, workspace, spark, tmp_path):
    workspace.source(PIPELINE)
    workspace.land("a.json", ORDERS)
    settings = tmp_path / "orders.pipeline.yml"
    settings.write_text(
        "resources:\n  pipelines:\n    orders_bronze:\n      name: orders_bronze\n"
        "      catalog: dev\n      schema: ${var.schema}\n      channel: CURRENT\n"
        "      libraries:\n        - glob:\n            include: src/**\n"
        "      configuration:\n        landing: /nowhere\n"
        "      event_log:\n        schema: monitoring\n        name: orders_events\n"
    )
    result = runner.invoke(
        app,
        ["pipeline", "run", "--settings", str(settings), "--var", "schema=sales",
         "--storage", str(workspace.storage), "--conf", f"landing={workspace.landing}"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "dev.sales.orders" in result.stdout
    events = workspace.sql("SELECT count(*) FROM dev.monitoring.orders_events").first()[0]
    assert events > 0  # where the event_log setting puts it
    missing = runner.invoke(app, ["pipeline", "run", "--settings", str(settings)])
    assert missing.exit_code == 1 and "${var.schema}: a local run knows only" in missing.output
    assert runner.invoke(app, ["pipeline", "run", "--storage", "x"]).exit_code == 2


def test_sql_json_prints_one_object_per_row_with_columns_in_select_order(runner, workspace, spark):
    workspace.source(PIPELINE)
    workspace.land("a.json", ORDERS)
    assert _run(runner, workspace).exit_code == 0
    result = runner.invoke(
        app,
        [
            "sql",
            "--storage",
            str(workspace.storage),
            "--format",
            "json",
            "SELECT country, id FROM main.sales.orders ORDER BY id",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [
        {"country": "NL", "id": 1},
        {"country": "DE", "id": 2},
        {"country": "NL", "id": 3},
    ]
    assert [list(r) for r in rows] == [["country", "id"]] * 3


def test_sql_on_a_missing_table_fails_with_a_clear_message(runner, workspace, spark):
    result = runner.invoke(app, ["sql", "--storage", str(workspace.storage), "SELECT * FROM a.b.c"])
    assert result.exit_code == 1
    assert "table 'a.b.c' does not exist" in result.output


def test_full_refresh_flag_rebuilds_and_refresh_flag_selects(runner, workspace, spark):
    workspace.source(PIPELINE)
    workspace.land("a.json", ORDERS)
    assert _run(runner, workspace).exit_code == 0
    assert _run(runner, workspace, "--full-refresh").exit_code == 0
    assert workspace.table("orders").count() == 3
    assert _run(runner, workspace, "--refresh", "orders").exit_code == 0
    assert workspace.table("orders").count() == 3
    both = _run(runner, workspace, "--refresh", "orders", "--full-refresh")
    assert both.exit_code == 1 and "either" in both.output


def test_sql_rejects_an_unknown_output_format(runner, workspace):
    result = runner.invoke(
        app, ["sql", "--storage", str(workspace.storage), "--format", "xml", "SELECT 1"]
    )
    assert result.exit_code == 2
    assert "'xml' is not one of 'table', 'json'" in result.output


def test_demo_refuses_a_storage_that_is_a_file(runner, tmp_path):
    (tmp_path / "storage").write_text("")
    result = runner.invoke(app, ["demo", "--storage", str(tmp_path / "storage")])
    assert result.exit_code == 1
    assert "a file, expected a folder" in result.output


def test_for_without_continuous_is_refused(runner, workspace):
    workspace.source(PIPELINE)
    result = _run(runner, workspace, "--for", "5")
    assert result.exit_code == 2
    assert "--for applies to --continuous" in result.output


def test_continuous_run_for_seconds_ends_with_the_summary(runner, workspace, spark):
    workspace.source(PIPELINE)
    workspace.land("a.json", ORDERS)
    result = _run(runner, workspace, "--continuous", "--for", "2")
    assert result.exit_code == 0, result.output
    assert "main.sales.orders" in result.stdout


def test_an_unforeseen_error_is_one_masked_paragraph_and_a_masked_log(
    monkeypatch, capsys, tmp_path
):
    import tempfile

    import lakehouse.cli as cli

    def broken(**_: object) -> None:
        raise ValueError("[SOME_CLASS] The value 'ann@example.com' broke\nmore lines")

    monkeypatch.setattr(cli, "plain_value_names", lambda command: broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 1
    shown = " ".join(capsys.readouterr().err.split())
    assert "ValueError: [SOME_CLASS] The value '<masked>' broke. This is a bug" in shown
    assert "ann@example.com" not in shown and "more lines" not in shown
    (log,) = (tmp_path / "lakehouse-errors").glob("*.log")
    assert log.name in shown
    assert "Traceback" in log.read_text() and "ann@example.com" not in log.read_text()


def _lakehouse(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it (help is finished in main())."""
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "lakehouse.cli", *args], capture_output=True, text=True, env=env
    )


def test_help_names_values_plainly_and_the_version_is_one_flag_away():
    shown = _lakehouse("pipeline", "run", "--help")
    assert shown.returncode == 0, shown.stderr
    assert "--storage DIR" in shown.stdout and "[default: .lakehouse]" in shown.stdout
    assert "--conf KEY=VALUE" in shown.stdout and "--for SECONDS" in shown.stdout
    assert "<bool>" not in shown.stdout and "<list[" not in shown.stdout
    assert "<str>" not in _lakehouse("sql", "--help").stdout
    version = _lakehouse("--version")
    assert version.returncode == 0 and version.stdout.startswith("lakehouse ")


def test_a_misspelt_choice_lists_the_valid_values(runner):
    args = ["domain", "new", "x", "--owner", "a@b.c", "--cost-centre", "1"]
    wrong = runner.invoke(app, [*args, "--self-service", "manged"], env={"COLUMNS": "200"})
    assert wrong.exit_code == 2
    assert "'manged' is not one of 'self-serve', 'managed'" in " ".join(wrong.output.split())

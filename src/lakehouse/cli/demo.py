"""``lakehouse demo``: the whole platform locally, one day of every domain's sample data per run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lakehouse.cli.options import DEFAULT_STORAGE
from lakehouse.cli.scoring import scoring_table
from lakehouse.cli.terminal import (
    console,
    fail,
    out,
    print_progress,
    print_verdict,
    quiet_mlflow,
    start_spark,
)

DEMO_COLUMNS = (
    "domain",
    "layer",
    "tables",
    "rows",
    "new rows",
    "expectations passed",
    "expectations failed",
    "quarantined",
    "pipeline time",
)


def demo_command(
    storage: Annotated[
        Path,
        typer.Option("--storage", metavar="DIR", help="Folder for the demo's data and tables."),
    ] = DEFAULT_STORAGE,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Start from an empty storage folder.")
    ] = False,
    score: Annotated[
        bool,
        typer.Option(
            "--score/--no-score", help="Score the models of the scoring control table (MLflow)."
        ),
    ] = True,
) -> None:
    """Land the next batch of every domain's sample data, run every source system's ingestion
    and every domain's gold pipeline locally (incremental on each run), score the domains'
    models over the new gold, and summarize."""
    from lakehouse.demo import run_demo
    from lakehouse.engine import PipelineError

    if storage.exists() and not storage.is_dir():
        fail(f"--storage {storage}: a file, expected a folder (it is created when missing)")
    console.print(f"[bold]lakehouse demo[/bold] in {storage}")
    quiet_mlflow()
    start_spark()
    try:
        run = run_demo(
            storage,
            fresh=fresh,
            on_progress=print_progress,
            on_landed=lambda domain, batch, datasets: console.print(
                f"{domain}: landed batch {batch}, {sum(len(d.records) for d in datasets)} records"
            ),
            score=score,
        )
    except PipelineError as error:
        fail(str(error))
    table = Table(title=f"Demo batch {run.batch}: every domain, layer by layer")
    for column in DEMO_COLUMNS:
        table.add_column(column, justify="left" if column in ("domain", "layer") else "right")
    for layer in run.layers:
        table.add_row(
            layer.domain,
            layer.layer,
            *map(str, (layer.tables, layer.rows, layer.new_rows)),
            *map(str, (layer.expectations_passed, layer.expectations_failed)),
            str(layer.quarantined) if layer.layer == "silver" else "",
            f"{layer.seconds:.1f}s",
        )
    out.print(table)
    for model in run.trained:
        console.print(f"trained and registered {model} as @champion", soft_wrap=True)
    if run.scoring:
        out.print(scoring_table(run.scoring))
    console.print("every landed file (lakehouse landing audit):")
    for audit in run.landing:
        print_verdict(audit.holds, audit)
    console.print("every bronze row of this run:")
    for check in run.conservation:
        print_verdict(check.holds, check)
    console.print(f"end to end: {run.seconds:.1f}s")
    console.print(f"query it: {sql_hint(storage)}", soft_wrap=True, highlight=False)
    console.print(f"run report: {run.report}", soft_wrap=True, highlight=False)
    for result in run.scoring:
        if result.error:
            console.print(
                f"[bold red]error:[/bold red] {result.error}", soft_wrap=True, markup=False
            )
    holds = all(check.holds for check in [*run.landing, *run.conservation])
    if not holds or any(r.status == "failed" for r in run.scoring):
        raise typer.Exit(1)


def sql_hint(storage: Path) -> str:
    """A query of the demo's gold, runnable as printed from the project folder."""
    runner = "uv run" if shutil.which("uv") else "python3 -m uv run"
    where = "" if storage == DEFAULT_STORAGE else f" --storage {storage}"
    query = "SELECT * FROM dev_gold.sales.daily_revenue"
    return f'{runner} lakehouse sql{where} "{query}"'

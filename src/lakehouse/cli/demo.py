"""``lakehouse demo``: the whole platform locally, one day of every domain's sample data per run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lakehouse.cli.options import DEFAULT_STORAGE
from lakehouse.cli.terminal import console, fail, out, print_progress, print_verdict, start_spark

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
) -> None:
    """Land the next batch of every domain's sample data, run every source system's ingestion
    and every domain's gold pipeline locally (incremental on each run), and summarize."""
    from lakehouse.demo import run_demo
    from lakehouse.engine import PipelineError

    console.print(f"[bold]lakehouse demo[/bold] in {storage}")
    start_spark()
    try:
        run = run_demo(
            storage,
            fresh=fresh,
            on_progress=print_progress,
            on_landed=lambda domain, batch, datasets: console.print(
                f"{domain}: landed batch {batch}, {sum(len(d.records) for d in datasets)} records"
            ),
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
    console.print("every landed file (lakehouse landing audit):")
    for audit in run.landing:
        print_verdict(audit.holds, audit)
    console.print("every bronze row of this run:")
    for check in run.conservation:
        print_verdict(check.holds, check)
    console.print(f"end to end: {run.seconds:.1f}s")
    console.print(f"query it: {sql_hint(storage)}", soft_wrap=True, highlight=False)
    if not all(check.holds for check in [*run.landing, *run.conservation]):
        raise typer.Exit(1)


def sql_hint(storage: Path) -> str:
    """A query of the demo's gold, runnable as printed from the project folder."""
    runner = "uv run" if shutil.which("uv") else "python3 -m uv run"
    where = "" if storage == DEFAULT_STORAGE else f" --storage {storage}"
    query = "SELECT * FROM dev_gold.sales.daily_revenue"
    return f'{runner} lakehouse sql{where} "{query}"'

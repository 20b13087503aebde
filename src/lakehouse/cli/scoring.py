"""``lakehouse scoring run``: score every enabled row of the scoring control table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lakehouse.cli.options import DEFAULT_STORAGE, BundleRoot, Env, Storage, existing_folder
from lakehouse.cli.terminal import console, fail, out, print_problems, quiet_mlflow, start_spark

if TYPE_CHECKING:
    from lakehouse.scoring.batch_scoring import RowResult

app = typer.Typer(
    no_args_is_help=True, help="Batch scoring with MLflow models.", rich_markup_mode=None
)


@app.command("run")
def scoring_run(
    storage: Storage = DEFAULT_STORAGE,
    model: Annotated[
        str | None,
        typer.Option("--model", metavar="NAME", help="Only this model file (or registered name)."),
    ] = None,
    env: Env = "dev",
    root: BundleRoot = Path("."),
) -> None:
    """Refresh <env>_platform.scoring.control from domains/*/models/*.yml, then score each
    enabled row with its registered model into its output table (MLflow's store is under
    STORAGE/mlflow). Exits 1 when a row could not be scored; the other rows still run."""
    from lakehouse.engine import get_spark
    from lakehouse.scoring.control_table import ScoringError, UnknownModel, selected_rows
    from lakehouse.scoring.local_run import run_scoring

    existing_folder(storage, "--storage")
    try:
        selected_rows(env, model, root / "domains")  # bad files and names before Spark starts
    except ScoringError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    except UnknownModel as error:
        fail(str(error))
    quiet_mlflow()
    start_spark()
    with console.status("scoring..."):
        results = run_scoring(get_spark(), storage, env, model=model, domains_root=root / "domains")
    out.print(scoring_table(results))
    failed = [r for r in results if r.status == "failed"]
    for result in failed:
        console.print(f"[bold red]error:[/bold red] {result.error}", soft_wrap=True, markup=False)
    if failed:
        raise typer.Exit(1)


def scoring_table(results: list[RowResult]) -> Table:
    """One line per control row: its model version, what was scored and how."""
    table = Table(title="Scoring")
    for column in ("model", "version", "run", "scored", "NULL features", "removed", "output"):
        table.add_column(column, justify="right" if column in ("scored", "removed") else "left")
    for r in results:
        run = r.status if r.status != "scored" else ("full" if r.full else "incremental")
        table.add_row(
            f"{r.row.domain}/{r.row.name}",
            r.model_version or "-",
            run,
            str(r.scored_rows),
            str(r.null_features),
            str(r.deleted_rows),
            r.row.output_table,
        )
    return table

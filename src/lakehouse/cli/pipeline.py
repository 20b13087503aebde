"""``lakehouse pipeline run``: one update of any pipeline's source files with the local engine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from lakehouse.cli.options import DEFAULT_STORAGE, Storage
from lakehouse.cli.terminal import (
    console,
    fail,
    out,
    print_problems,
    print_progress,
    start_spark,
)

if TYPE_CHECKING:
    from lakehouse.engine import UpdateResult
    from lakehouse.platform.pipelines import PipelineSpec

app = typer.Typer(
    no_args_is_help=True, help="Run pipelines with the local engine.", rich_markup_mode=None
)


@app.command("run")
def pipeline_run(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Pipeline .py and .sql files, or folders of them (default: --settings' libraries)."
        ),
    ] = None,
    settings: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            metavar="FILE",
            help="The pipeline's settings: a bundle pipeline resource (YAML) or the Pipelines "
            "API's JSON. Its libraries, catalog, schema, configuration and event_log apply; "
            "options given here override them.",
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(help="With --settings: the bundle target whose pipeline to run."),
    ] = None,
    var: Annotated[
        list[str],
        typer.Option("--var", metavar="NAME=VALUE", help="With --settings: a ${var.NAME} value."),
    ] = [],  # noqa: B006
    storage: Storage = DEFAULT_STORAGE,
    name: Annotated[
        str | None, typer.Option(help="Pipeline name (default: first path's name).")
    ] = None,
    catalog: Annotated[
        str | None, typer.Option(help="Target catalog.  [default: main]", show_default=False)
    ] = None,
    schema: Annotated[
        str | None, typer.Option(help="Target schema.  [default: default]", show_default=False)
    ] = None,
    conf: Annotated[
        list[str], typer.Option("--conf", metavar="KEY=VALUE", help="Pipeline configuration.")
    ] = [],  # noqa: B006
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild every table.")
    ] = False,
    refresh: Annotated[
        str | None,
        typer.Option(
            "--refresh", metavar="TABLES", help="Rebuild only these tables (comma-separated)."
        ),
    ] = None,
    continuous: Annotated[
        bool,
        typer.Option(
            "--continuous", help="Keep streams running and views fresh until Ctrl-C or --for."
        ),
    ] = False,
    run_for: Annotated[
        float | None,
        typer.Option(
            "--for", min=0, metavar="SECONDS", help="With --continuous: stop after SECONDS."
        ),
    ] = None,
) -> None:
    """Run one update of the pipeline made of PATHS."""
    from lakehouse.engine import PipelineError, run_pipeline

    if run_for is not None and not continuous:
        raise typer.BadParameter("--for applies to --continuous updates", param_hint="--for")
    if settings is None and (target or var):
        raise typer.BadParameter("applies with --settings", param_hint="--target / --var")
    spec = (
        _settings(settings, target, _parse_pairs(var, "--var", "NAME=VALUE")) if settings else None
    )
    if not paths and spec is None:
        raise typer.BadParameter("give PATHS, or --settings FILE", param_hint="PATHS")
    sources = list(paths or spec.sources)  # type: ignore[union-attr]
    name = name or (spec.name if spec else None)
    configuration = {
        **(spec.configuration if spec else {}),
        **_parse_pairs(conf, "--conf", "KEY=VALUE"),
    }
    selection = [t.strip() for t in refresh.split(",") if t.strip()] if refresh else []

    console.print(f"[bold]pipeline[/bold] {name or sources[0].name}: starting update")
    start_spark()
    try:
        result = run_pipeline(
            sources,
            storage=storage,
            name=name,
            catalog=catalog or (spec.catalog if spec else "main"),
            schema=schema or (spec.schema if spec else "default"),
            configuration=configuration,
            full_refresh=full_refresh,
            refresh=selection,
            on_progress=print_progress,
            continuous=continuous or bool(spec and spec.continuous),
            run_for=run_for,
            event_log=spec.event_log if spec else None,
        )
    except PipelineError as error:
        fail(str(error))
    except KeyboardInterrupt:
        console.print("[bold yellow]canceled[/bold yellow]: the update stopped (Ctrl-C)")
        raise typer.Exit(130) from None
    out.print(_summary(result))
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)
    console.print(f"update {result.update_id} completed in {result.seconds:.1f}s")


def _settings(file: Path, target: str | None, variables: dict[str, str]) -> PipelineSpec:
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.platform.pipelines import settings_file_pipeline

    if not file.is_file():
        raise typer.BadParameter(f"{file}: no such file", param_hint="--settings")
    try:
        return settings_file_pipeline(file, target, variables)
    except ConfigFileError as error:
        print_problems(error)
        raise typer.Exit(1) from None


def _parse_pairs(values: list[str], option: str, shape: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"'{value}': expected {shape}", param_hint=option)
        pairs[key] = val
    return pairs


SUMMARY_COLUMNS = (
    "dataset",
    "type",
    "rows written",
    "expectations passed",
    "expectations failed",
    "dropped",
)


def _summary(result: UpdateResult) -> Table:
    """One row per dataset: its flows' rows written, expectation records and dropped rows."""
    table = Table(title="Update summary")
    for column in SUMMARY_COLUMNS:
        table.add_column(column, justify="left" if column in ("dataset", "type") else "right")
    by_dataset: dict[str, list[int]] = {}
    for flow in result.flows:
        totals = by_dataset.setdefault(flow.dataset, [0, 0, 0, 0])
        totals[0] += flow.num_output_rows
        totals[1] += sum(int(e["passed_records"]) for e in flow.expectations)
        totals[2] += sum(int(e["failed_records"]) for e in flow.expectations)
        totals[3] += flow.dropped_records
    for dataset, totals in by_dataset.items():
        table.add_row(dataset, result.datasets.get(dataset, ""), *(str(t) for t in totals))
    return table

"""The ``lakehouse`` command line. Its commands and flags are a stable contract: CI, other
tooling and the docs call them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lakehouse.contracts.problems import ConfigFileError

# Errors are reported by main() in one paragraph, never as a traceback.
# Plain click help: value names (--storage DIR), not Typer's Python types (<path>, <bool>).
app = typer.Typer(
    no_args_is_help=True,
    help="Run the lakehouse platform locally.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
pipeline_app = typer.Typer(
    no_args_is_help=True, help="Run pipelines with the local engine.", rich_markup_mode=None
)
app.add_typer(pipeline_app, name="pipeline")
contracts_app = typer.Typer(
    no_args_is_help=True, help="Check the domains' data contracts.", rich_markup_mode=None
)
app.add_typer(contracts_app, name="contracts")
bundle_app = typer.Typer(
    no_args_is_help=True, help="Generate and check the Databricks bundle.", rich_markup_mode=None
)
app.add_typer(bundle_app, name="bundle")
governance_app = typer.Typer(
    no_args_is_help=True, help="Access rules from classifications.", rich_markup_mode=None
)
app.add_typer(governance_app, name="governance")
domain_app = typer.Typer(
    no_args_is_help=True, help="Create and list the business domains.", rich_markup_mode=None
)
app.add_typer(domain_app, name="domain")
landing_app = typer.Typer(
    no_args_is_help=True, help="Account for the landed files.", rich_markup_mode=None
)
app.add_typer(landing_app, name="landing")


def _show_version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        out.print(f"lakehouse {version('lakehouse')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _lakehouse(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Run the lakehouse platform locally."""


def plain_value_names(command: Any) -> Any:
    """``command`` and its subcommands with click's value names in help (``--catalog
    CATALOG``) where Typer would show Python types (``<str>``), and none for flags."""
    for param in command.params:
        if param.param_type_name == "argument":  # its NAME says it: no type after it
            param.display_type_rich = lambda ctx: None
            param.metavar = param.metavar or (param.name or "").upper()
        elif param.metavar is None and param.name and not param.type_descriptor.is_choice:
            flag = param.type_descriptor.annotation is bool
            param.metavar = "" if flag else param.name.upper()
    for subcommand in getattr(command, "commands", {}).values():
        plain_value_names(subcommand)
    return command


console = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 200)

DEFAULT_STORAGE = Path(".lakehouse")  # where the demo keeps everything
Storage = Annotated[
    Path,
    typer.Option(
        "--storage", metavar="DIR", help="Folder that holds tables, checkpoints and the event log."
    ),
]


def _print_progress(flow: str, status: str, result: Any) -> None:
    """A flow's progress, named by its table (and the flow, when it has a name of its own)."""
    table = getattr(result, "dataset", flow)
    named = table if flow == table else f"{table} [dim]({escape(flow)})[/dim]"
    console.print(f"  [dim]{status.lower():>9}[/dim]  {named}", soft_wrap=True, highlight=False)


def _sql_hint(storage: Path) -> str:
    """A query of the demo's gold, runnable as printed from the project folder."""
    import shutil

    runner = "uv run" if shutil.which("uv") else "python3 -m uv run"
    where = "" if storage == DEFAULT_STORAGE else f" --storage {storage}"
    query = "SELECT * FROM dev_gold.sales.daily_revenue"
    return f'{runner} lakehouse sql{where} "{query}"'


def _start_spark() -> None:
    """Start the local Spark session behind a progress line: it takes seconds, and a silent
    terminal looks stuck."""
    from lakehouse.engine import get_spark

    with console.status("starting Spark (local, with Delta Lake)..."):
        get_spark()


def _parse_conf(values: list[str]) -> dict[str, str]:
    conf: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"'{value}': expected KEY=VALUE", param_hint="--conf")
        conf[key] = val
    return conf


@pipeline_app.command("run")
def pipeline_run(
    paths: Annotated[list[Path], typer.Argument(help="Pipeline .py files or folders.")],
    storage: Storage = DEFAULT_STORAGE,
    name: Annotated[
        str | None, typer.Option(help="Pipeline name (default: first path's name).")
    ] = None,
    catalog: Annotated[str, typer.Option(help="Target catalog.")] = "main",
    schema: Annotated[str, typer.Option(help="Target schema.")] = "default",
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
    configuration = _parse_conf(conf)
    selection = [t.strip() for t in refresh.split(",") if t.strip()] if refresh else []

    console.print(f"[bold]pipeline[/bold] {name or paths[0].name}: starting update")
    _start_spark()
    try:
        result = run_pipeline(
            paths,
            storage=storage,
            name=name,
            catalog=catalog,
            schema=schema,
            configuration=configuration,
            full_refresh=full_refresh,
            refresh=selection,
            on_progress=_print_progress,
            continuous=continuous,
            run_for=run_for,
        )
    except PipelineError as error:
        console.print(f"[bold red]error:[/bold red] {error}", soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("[bold yellow]canceled[/bold yellow]: the update stopped (Ctrl-C)")
        raise typer.Exit(130) from None
    out.print(_summary(result))
    console.print(f"update {result.update_id} completed in {result.seconds:.1f}s")


def _summary(result: object) -> Table:
    table = Table(title="Update summary")
    for column in (
        "dataset",
        "type",
        "rows written",
        "expectations passed",
        "expectations failed",
        "dropped",
    ):
        table.add_column(column, justify="left" if column in ("dataset", "type") else "right")
    by_dataset: dict[str, list[int]] = {}
    for flow in result.flows:  # type: ignore[attr-defined]
        totals = by_dataset.setdefault(flow.dataset, [0, 0, 0, 0])
        totals[0] += flow.num_output_rows
        totals[1] += sum(int(e["passed_records"]) for e in flow.expectations)
        totals[2] += sum(int(e["failed_records"]) for e in flow.expectations)
        totals[3] += flow.dropped_records
    for dataset, totals in by_dataset.items():
        kind = result.datasets.get(dataset, "")  # type: ignore[attr-defined]
        table.add_row(dataset, kind, *(str(t) for t in totals))
    return table


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


@app.command("demo")
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
    _start_spark()
    try:
        run = run_demo(
            storage,
            fresh=fresh,
            on_progress=_print_progress,
            on_landed=lambda domain, batch, datasets: console.print(
                f"{domain}: landed batch {batch}, {sum(len(d.records) for d in datasets)} records"
            ),
        )
    except PipelineError as error:
        console.print(f"[bold red]error:[/bold red] {error}", soft_wrap=True)
        raise typer.Exit(1) from None
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
        _print_verdict(audit.holds, audit)
    console.print("every bronze row of this run:")
    for check in run.conservation:
        _print_verdict(check.holds, check)
    console.print(f"end to end: {run.seconds:.1f}s")
    console.print(f"query it: {_sql_hint(storage)}", soft_wrap=True, highlight=False)
    if not all(check.holds for check in [*run.landing, *run.conservation]):
        raise typer.Exit(1)


@app.command("sql")
def sql_command(
    query: Annotated[str, typer.Argument(help="A Spark SQL query.")],
    storage: Storage = DEFAULT_STORAGE,
    output_format: Annotated[
        Literal["table", "json"], typer.Option("--format", help="How to print the rows.")
    ] = "table",
    catalog: Annotated[str, typer.Option(help="Catalog for unqualified names.")] = "main",
    schema: Annotated[str, typer.Option(help="Schema for unqualified names.")] = "default",
) -> None:
    """Query the local catalog under STORAGE."""
    from lakehouse.engine import PipelineError, sql

    _start_spark()
    try:
        frame = _dates_as_text(sql(storage, query, catalog=catalog, schema=schema))
        rows = frame.collect()
    except PipelineError as error:
        console.print(f"[bold red]error:[/bold red] {error}", soft_wrap=True)
        raise typer.Exit(1) from None
    except Exception as error:  # Spark's analysis errors: show the first line, not a trace
        console.print(f"[bold red]error:[/bold red] {str(error).strip().splitlines()[0]}")
        raise typer.Exit(1) from None
    if output_format == "json":
        for row in rows:
            sys.stdout.write(json.dumps(row.asDict(recursive=True), default=str) + "\n")
        return
    table = Table()
    for column in frame.columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    out.print(table)


def _dates_as_text(frame: DataFrame) -> DataFrame:
    """Dates and timestamps rendered by Spark: Python's datetime cannot hold all of Spark's
    range (0001-01-01 00:00 fails to convert)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType, TimestampNTZType, TimestampType

    dated = (DateType, TimestampType, TimestampNTZType)
    return frame.select(
        *[
            F.col(f"`{f.name}`").cast("string").alias(f.name)
            if isinstance(f.dataType, dated)
            else F.col(f"`{f.name}`")
            for f in frame.schema.fields
        ]
    )


@contracts_app.command("validate")
def contracts_validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Contract files or folders (default: domains/*/contracts)."),
    ] = None,
) -> None:
    """Check contracts against ODCS v3 and the platform's rules; list every problem with its
    file, line and field."""
    from lakehouse.contracts import ContractError, find_contracts, load_contract

    files = find_contracts(paths or [])
    if not files:
        console.print("no contract files found")
        raise typer.Exit(1)
    problems = 0
    for file in files:
        try:
            load_contract(file)
        except ContractError as error:
            problems += len(error.problems)
            _print_problems(error)
    console.print(f"{len(files)} contract(s), {problems} problem(s)")
    if problems:
        raise typer.Exit(1)


@contracts_app.command("diff")
def contracts_diff(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="OLD NEW contract files; with --against, files or folders."),
    ] = None,
    against: Annotated[
        str | None,
        typer.Option("--against", help="Compare the working tree's contracts with this git ref."),
    ] = None,
) -> None:
    """Classify each change between contract versions as compatible or breaking; exit 1 on a
    breaking change unless the contract's major version was raised."""
    from lakehouse.contracts import ContractError
    from lakehouse.contracts.compatibility import allowed, contract_changes
    from lakehouse.contracts.revisions import contract_pairs

    if against is None and len(paths or []) != 2:
        raise typer.BadParameter("give OLD and NEW, or --against REF", param_hint="PATHS")
    refused = 0
    try:
        for label, old, new in contract_pairs(paths or [], against):
            if old is None or new is None:
                breaking = new is None
                out.print(f"{label}: {'removed (breaking)' if breaking else 'added'}")
                refused += breaking
                continue
            changes = contract_changes(old, new)
            ok = allowed(old, new, changes)
            verdict = "allowed" if ok else "refused: raise the major version"
            out.print(f"{label}: {len(changes)} change(s), {verdict}", markup=False)
            for change in changes:
                out.print(f"  {change}", markup=False, highlight=False)
            refused += not ok
    except ContractError as error:
        _print_problems(error)
        raise typer.Exit(1) from None
    except subprocess.CalledProcessError as error:
        console.print(f"[bold red]error:[/bold red] git: {error.stderr.strip()}", soft_wrap=True)
        raise typer.Exit(1) from None
    if refused:
        raise typer.Exit(1)


def _print_problems(error: ConfigFileError) -> None:
    for problem in error.problems:
        out.print(str(problem), soft_wrap=True, markup=False, highlight=False)


def _bundle_root(root: Path) -> Path:
    if not (root / "databricks.yml").is_file():
        raise typer.BadParameter(f"no databricks.yml in {root.resolve()}: name the bundle's root folder")  # fmt: skip
    return root


BundleRoot = Annotated[
    Path,
    typer.Option(
        "--root", help="The bundle's root folder (holding databricks.yml).", callback=_bundle_root
    ),
]


@bundle_app.command("sync-targets")
def bundle_sync_targets(
    root: BundleRoot = Path("."),
    check: Annotated[
        bool,
        typer.Option("--check", help="Only report whether the generated files are out of date."),
    ] = False,
) -> None:
    """Regenerate the bundle's targets (resources/targets.yml) and .github/CODEOWNERS from
    platform.yml and domains/*/domain.yml."""
    from lakehouse.bundle.targets import stale_files, sync_targets
    from lakehouse.platform.registry import RegistryError

    try:
        if check:
            stale = stale_files(root)
            for file in stale:
                console.print(f"{file.relative_to(root)}: out of date")
            if not stale:
                console.print("resources/targets.yml and .github/CODEOWNERS: up to date")
            raise typer.Exit(1 if stale else 0)
        changed = sync_targets(root)
    except RegistryError as error:
        _print_problems(error)
        raise typer.Exit(1) from None
    for file in changed:
        console.print(f"{file.relative_to(root)}: rewritten")
    if not changed:
        console.print("resources/targets.yml and .github/CODEOWNERS: already up to date")


@bundle_app.command("validate")
def bundle_validate(
    root: BundleRoot = Path("."),
    targets: Annotated[
        list[str] | None, typer.Option("--target", "-t", help="Only this target (repeatable).")
    ] = None,
    plan: Annotated[
        bool, typer.Option("--plan", help="Also print each target's `databricks bundle plan`.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail when a check was skipped (no CLI, no schema).")
    ] = False,
) -> None:
    """Check the bundle per target with the real Databricks CLI (`bundle validate --strict`,
    against a stand-in workspace on 127.0.0.1), or offline as far as possible without it, and
    the platform's guardrails. Says which checks were skipped, and why."""
    from lakehouse.bundle.validate import validate_bundle

    report = validate_bundle(root, targets or (), plan=plan)
    for skipped in report.skipped:
        console.print(f"[yellow]skipped:[/yellow] {skipped}", soft_wrap=True)
    for name, planned in report.plans.items():
        out.print(f"{name}:\n{planned}", soft_wrap=True, markup=False, highlight=False)
    for scope, problems in report.problems.items():
        console.print(f"[bold]{scope}[/bold]: {len(problems)} problem(s)")
        for problem in problems:
            out.print(f"  {problem}", soft_wrap=True, markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(1)
    scope = ", ".join(targets) if targets else "every target"
    if report.skipped:
        console.print(f"bundle: {scope}: no problem found, but {len(report.skipped)} check(s) skipped")  # fmt: skip
        raise typer.Exit(1 if strict else 0)
    console.print(f"bundle: {scope} valid (Databricks CLI validate --strict and guardrails)")


@bundle_app.command("changed")
def bundle_changed(
    base: Annotated[str, typer.Option(help="The git ref to compare with, such as origin/main.")],
    root: BundleRoot = Path("."),
) -> None:
    """Print, as a JSON list, the domains (and platform) whose targets the changes since BASE
    touch: the workflows' matrix."""
    from lakehouse.bundle.changes import changed_domains, files_changed_since

    try:
        changed = changed_domains(root, files_changed_since(root, base))
    except subprocess.CalledProcessError as error:
        console.print(f"[bold red]error:[/bold red] git: {error.stderr.strip()}", soft_wrap=True)
        raise typer.Exit(1) from None
    out.print(json.dumps(changed), markup=False)


@governance_app.command("grants")
def governance_grants(
    storage: Storage = DEFAULT_STORAGE,
    env: Annotated[str, typer.Option(help="The environment whose layers to grant.")] = "dev",
) -> None:
    """Print the table grants the platform's grants job would run over the local catalog:
    SELECT for everybody on general and public tables, revoked on the others."""
    from lakehouse.governance.access import table_access, table_grant_statements
    from lakehouse.governance.table_grants import local_tables

    if not storage.is_dir():
        raise typer.BadParameter(f"{storage}: no such folder", param_hint="--storage")
    for statement in table_grant_statements(table_access(local_tables(storage, env))):
        out.print(statement, soft_wrap=True, markup=False, highlight=False)


@domain_app.command("new")
def domain_new(
    name: Annotated[str, typer.Argument(help="The domain's name, a lower-case identifier.")],
    owner: Annotated[str, typer.Option(help="The data owner's e-mail.")],
    cost_centre: Annotated[str, typer.Option("--cost-centre", help="For the cost tags.")],
    self_service: Annotated[
        Literal["self-serve", "managed"],
        typer.Option("--self-service", help="Who deploys the domain's resources."),
    ] = "self-serve",
    root: BundleRoot = Path("."),
) -> None:
    """Scaffold domains/NAME (registry entry, example contract, gold pipeline, resource,
    sample data, test) and regenerate the targets."""
    from lakehouse.bundle.scaffold import ScaffoldError, new_domain
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.platform.registry import SelfService

    level = SelfService(self_service)  # one of its values: the option's choices
    try:
        folder = new_domain(root, name, owner=owner, cost_centre=cost_centre, self_service=level)
    except ConfigFileError as error:  # the registry, or the new entry (a bad owner)
        _print_problems(error)
        console.print("[bold red]error:[/bold red] nothing was created", soft_wrap=True)
        raise typer.Exit(1) from None
    except ScaffoldError as error:  # a bad name, or a domain that exists
        console.print(f"[bold red]error:[/bold red] {error}", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"created {folder}; targets {name}-dev, {name}-test and {name}-prod added")
    console.print(
        "next: edit domain.yml (workspaces, service principals), then see docs/domains.md"
    )


@domain_app.command("list")
def domain_list(root: BundleRoot = Path(".")) -> None:
    """The domains of the registry: owner, self-service level, source systems and targets."""
    from lakehouse.platform.domains import Domain
    from lakehouse.platform.registry import ENVS, RegistryError, load_registry

    try:
        _, domains = load_registry(root)
    except RegistryError as error:
        _print_problems(error)
        raise typer.Exit(1) from None
    table = Table(title="Domains")
    for column in ("domain", "owner", "self-service", "source systems", "targets"):
        table.add_column(column)
    for spec in domains:
        systems = Domain(root / "domains" / spec.name).source_systems
        targets = ", ".join(f"{spec.name}-{env}" for env in ENVS)
        table.add_row(spec.name, spec.owner, spec.self_service.value, ", ".join(systems), targets)
    out.print(table)


@landing_app.command("audit")
def landing_audit(
    storage: Storage = DEFAULT_STORAGE,
    domain: Annotated[
        str | None, typer.Option("--domain", help="Only this domain's datasets.")
    ] = None,
    landing: Annotated[
        Path | None,
        typer.Option("--landing", help="The landing root; <storage>/landing when omitted."),
    ] = None,
    env: Annotated[str, typer.Option(help="The environment whose bronze tables to read.")] = "dev",
    root: BundleRoot = Path("."),
) -> None:
    """Reconcile every file under each dataset's landing folder with what became of it
    (ingested, unreadable, ignored by the name rule, not yet seen, changed after ingestion),
    append the result to <env>_bronze.monitoring.landing_audit, and exit 1 when a file is
    unaccounted for."""
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.ingestion.landing_audit import Fate, audit_landing, save_audit
    from lakehouse.platform.domains import find_domains

    if not storage.is_dir():
        raise typer.BadParameter(f"{storage}: no such folder", param_hint="--storage")
    landing = landing or storage / "landing"
    if not landing.is_dir():
        raise typer.BadParameter(f"{landing}: no such folder", param_hint="--landing")
    domains = find_domains(root / "domains")
    if domain is not None:
        names = [d.name for d in domains]
        if domain not in names:
            raise typer.BadParameter(
                f"no domain {domain!r}; the domains are {', '.join(names)}", param_hint="--domain"
            )
        domains = [d for d in domains if d.name == domain]
    try:
        contracts = [c for d in domains for c in d.contracts]
    except ConfigFileError as error:
        _print_problems(error)
        raise typer.Exit(1) from None
    audits = audit_landing(contracts, storage=storage, landing=landing, env=env)
    for audit in audits:
        _print_verdict(audit.holds, audit)
        for file in audit.files:
            if file.fate is not Fate.INGESTED:
                note = f": {file.detail}" if file.detail else ""
                out.print(f"      {file.fate}: {file.path}{note}", soft_wrap=True, markup=False, highlight=False)  # fmt: skip
    table = save_audit(audits, storage=storage, env=env)
    console.print(f"saved to {env}_bronze.monitoring.landing_audit ({table})", soft_wrap=True)
    if not all(audit.holds for audit in audits):
        raise typer.Exit(1)


def _print_verdict(holds: bool, check: object) -> None:
    """One conservation line: ``ok`` or ``LOST``, then what was checked."""

    mark = "[green]ok[/green]" if holds else "[bold red]LOST[/bold red]"
    console.print(f"  {mark}  {escape(str(check))}", soft_wrap=True, highlight=False)


def main() -> None:
    """The ``lakehouse`` command: an error nobody foresaw is still one paragraph, and its
    traceback goes to a file whose path is printed. Which table's values such an error quotes
    is unknown, so every quoted value is masked in both."""
    try:
        plain_value_names(typer.main.get_command(app))(prog_name="lakehouse")
    except KeyboardInterrupt:
        console.print("[bold yellow]canceled[/bold yellow] (Ctrl-C)")
        sys.exit(130)
    except Exception as error:
        import tempfile
        import traceback

        from lakehouse.engine.observability.masking import Masking

        masking = Masking("restricted")
        folder = Path(tempfile.gettempdir()) / "lakehouse-errors"
        folder.mkdir(exist_ok=True)
        log = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
        log.write_text(masking.text("".join(traceback.format_exception(error))))
        first = masking.text((str(error).strip().splitlines() or [""])[0])
        console.print(
            f"[bold red]error:[/bold red] {type(error).__name__}: {escape(first)}. This is a "
            f"bug of the lakehouse command; the full error is in {log}",
            soft_wrap=True,
            markup=True,
            highlight=False,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()

"""``lakehouse dr``: back up, restore and drill the recovery of a storage folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from lakehouse.cli.options import DEFAULT_STORAGE, BundleRoot, Storage, existing_folder
from lakehouse.cli.terminal import console, fail, out, print_progress, start_spark
from lakehouse.operations.durations import span

app = typer.Typer(
    no_args_is_help=True,
    help="Disaster recovery: backup, restore and the drill measuring RPO and RTO.",
    rich_markup_mode=None,
)
# The platform's targets (docs/nfr.md): data at most 1.5 days old after a restore, usable again
# within a day; the local drill of the demo within 5 minutes.
RPO_TARGET = dt.timedelta(days=1.5)
RTO_TARGET = dt.timedelta(days=1)
LOCAL_DRILL_TARGET = dt.timedelta(minutes=5)


@app.command("backup")
def dr_backup(
    to: Annotated[Path, typer.Option("--to", metavar="DIR", help="A new folder for the backup.")],
    storage: Storage = DEFAULT_STORAGE,
) -> None:
    """Copy every table of STORAGE at its current version, the pipelines' state, landing and
    MLflow into DIR, with a manifest of each table's version and checksum."""
    from lakehouse.engine import get_spark
    from lakehouse.operations.disaster_recovery import RecoveryError, backup

    existing_folder(storage, "--storage")
    start_spark()
    try:
        manifest = backup(storage, to, get_spark())
    except RecoveryError as error:
        fail(str(error))
    out.print(f"backed up {len(manifest.tables)} table(s) of {storage} to {to} at {manifest.taken_at}", soft_wrap=True, highlight=False)  # fmt: skip


@app.command("restore")
def dr_restore(
    source: Annotated[Path, typer.Option("--from", metavar="DIR", help="The backup folder.")],
    storage: Storage = DEFAULT_STORAGE,
) -> None:
    """Restore the backup in DIR into STORAGE (absent or empty) and check every table's
    version and checksum against the backup's manifest."""
    from lakehouse.engine import get_spark
    from lakehouse.operations.disaster_recovery import RecoveryError, restore

    existing_folder(source, "--from")
    start_spark()
    try:
        manifest = restore(source, storage, get_spark())
    except RecoveryError as error:
        fail(str(error))
    out.print(f"restored {len(manifest.tables)} table(s) into {storage}, as backed up at {manifest.taken_at}", soft_wrap=True, highlight=False)  # fmt: skip


@app.command("drill")
def dr_drill(
    storage: Storage = DEFAULT_STORAGE,
    backups: Annotated[
        Path | None,
        typer.Option(
            "--backups", metavar="DIR", help="Where the drill's backup goes (a new folder)."
        ),
    ] = None,
    root: BundleRoot = Path("."),
) -> None:
    """Back STORAGE up, destroy it, restore it, run every domain's pipelines again and compare
    every table's checksum; print the measured RPO (how old the restored data was) and RTO
    (until usable again) against the targets. Exits 1 when a table differs or a target is
    missed."""
    from lakehouse.domain_run import run_domain
    from lakehouse.engine import get_spark
    from lakehouse.operations.disaster_recovery import RecoveryError, drill
    from lakehouse.platform.domains import find_domains

    existing_folder(storage, "--storage")
    backups = backups or storage.parent / f"{storage.name}-drill-{dt.datetime.now():%Y%m%dT%H%M%S}"
    domains = find_domains(root / "domains")
    start_spark()
    spark = get_spark()

    def rerun() -> None:
        for domain in domains:
            run_domain(domain, storage=storage, landing=storage / "landing", spark=spark, on_progress=print_progress)  # fmt: skip

    try:
        measured = drill(storage, backups, spark, rerun)
    except RecoveryError as error:
        fail(f"{error} (the backup is in {backups})")
    for name in measured.differing:
        console.print(f"[bold red]differs after the restore:[/bold red] {name}", soft_wrap=True)
    checks = [
        (
            f"RPO {span(measured.rpo, decimals=1)} (target {span(RPO_TARGET, decimals=1)})",
            measured.rpo <= RPO_TARGET,
        ),
        (
            f"RTO {span(measured.rto, decimals=1)} (target {span(RTO_TARGET, decimals=1)}; a local drill {span(LOCAL_DRILL_TARGET, decimals=1)})",
            measured.rto <= LOCAL_DRILL_TARGET,
        ),
        (
            f"{measured.tables - len(measured.differing)} of {measured.tables} tables as before",
            not measured.differing,
        ),
    ]
    for text, holds in checks:
        mark = "[green]ok[/green]" if holds else "[bold red]MISSED[/bold red]"
        console.print(f"  {mark}  {text}", soft_wrap=True, highlight=False)
    console.print(f"backup: {backups} ({measured.backup_seconds:.1f}s)", soft_wrap=True, highlight=False)  # fmt: skip
    if not all(holds for _, holds in checks):
        raise typer.Exit(1)

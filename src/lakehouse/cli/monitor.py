"""``lakehouse monitor``: each dataset's freshness against its contract's SLA."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from lakehouse.cli.options import (
    DEFAULT_STORAGE,
    BundleRoot,
    Env,
    Landing,
    Storage,
    existing_folder,
    landing_folder,
)
from lakehouse.cli.terminal import console, out, print_problems
from lakehouse.operations.durations import ago, span

if TYPE_CHECKING:
    from lakehouse.operations.freshness import DatasetFreshness


def monitor_command(
    storage: Storage = DEFAULT_STORAGE,
    env: Env = "dev",
    landing: Landing = None,
    root: BundleRoot = Path("."),
) -> None:
    """Check every dataset's freshness against its contract's SLA: when files last landed,
    when bronze, silver and the domain's gold last changed, the ingestion's last completed
    update, how long a landed file has waited (latency) and how old silver is (freshness).
    Appends the check to <env>_platform.monitoring.freshness, and each new update's
    expectation results and row conservation (from the event logs) to monitoring.expectations
    and monitoring.conservation. Exits 1 on an alert: a dataset late, stale or without data,
    an update that lost rows, a quality drop (an expectation failing at least twice as often
    as before, 5 points more, for 10 records or more), or a pipeline whose last update
    failed. Each domain's monitoring job runs the same check in the workspace."""
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.operations.monitoring import run_checks
    from lakehouse.operations.observations import LocalObservations
    from lakehouse.platform.catalogs import monitoring_table
    from lakehouse.platform.domains import find_domains

    existing_folder(storage, "--storage")
    landing = landing_folder(landing, storage)
    try:
        check = run_checks(find_domains(root / "domains"), LocalObservations(storage, landing), env=env)  # fmt: skip
    except ConfigFileError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    out.print(freshness_table(check.freshness))
    console.print(f"saved to {monitoring_table(env, 'freshness')}", soft_wrap=True)
    quality = check.quality
    console.print(
        f"data quality: {quality.updates} new update(s): {len(quality.expectations)} expectation "
        f"result(s) to {monitoring_table(env, 'expectations')}, {len(quality.conservation)} "
        f"conservation check(s) to {monitoring_table(env, 'conservation')}",
        soft_wrap=True,
    )
    for alert in check.alerts:
        console.print(f"[bold red]alert:[/bold red] {escape(alert)}", soft_wrap=True)
    if check.alerts:
        raise typer.Exit(1)


def freshness_table(results: list[DatasetFreshness]) -> Table:
    """One line per dataset: ages of each step, the SLA, and the status."""
    table = Table(title="Freshness against the contracts' SLAs")
    for column in ("dataset", "landed", "bronze", "silver", "gold", "last update",
                   "waiting / latency", "age / freshness", "status"):  # fmt: skip
        table.add_column(column)
    for r in results:
        style = "green" if not r.breached else "bold red"
        table.add_row(
            f"{r.domain}/{r.dataset}",
            *(
                ago(r.checked_at, at)
                for at in (r.landed, r.bronze, r.silver, r.gold, r.last_update)
            ),
            f"{span(r.waiting)} / {span(r.latency)}",
            f"{span(r.age)} / {span(r.freshness)}",
            f"[{style}]{r.status}[/{style}]",
        )
    return table

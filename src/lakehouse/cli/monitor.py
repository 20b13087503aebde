"""``lakehouse monitor``: each dataset's freshness against its contract's SLA."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer
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
    Appends the check to <env>_bronze.monitoring.freshness, and each new update's expectation
    results and row conservation (from the event logs) to monitoring.expectations and
    monitoring.conservation; exits 1 when a dataset is late, stale or has no data, or an
    update lost rows."""
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.operations.freshness import check_freshness, save_freshness
    from lakehouse.operations.quality_trends import record_quality
    from lakehouse.platform.domains import find_domains

    existing_folder(storage, "--storage")
    landing = landing_folder(landing, storage)
    try:
        domains = find_domains(root / "domains")
        results = check_freshness(domains, storage, landing=landing, env=env)
    except ConfigFileError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    out.print(freshness_table(results))
    table = save_freshness(results, storage=storage, env=env)
    console.print(f"saved to {env}_bronze.monitoring.freshness ({table})", soft_wrap=True)
    quality = record_quality(domains, storage, env=env)
    console.print(
        f"data quality: {quality.updates} new update(s): {len(quality.expectations)} expectation "
        f"result(s) to {env}_bronze.monitoring.expectations, {len(quality.conservation)} "
        f"conservation check(s) to {env}_bronze.monitoring.conservation",
        soft_wrap=True,
    )
    for broken in quality.not_conserved:
        console.print(f"[bold red]not conserved:[/bold red] {broken}", soft_wrap=True)
    breached = [r for r in results if r.breached]
    if breached:
        names = ", ".join(f"{r.dataset} ({r.status})" for r in breached)
        console.print(f"[bold red]SLA breached:[/bold red] {names}", soft_wrap=True)
    if breached or quality.not_conserved:
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
                _ago(r.checked_at, at)
                for at in (r.landed, r.bronze, r.silver, r.gold, r.last_update)
            ),
            f"{_span(r.waiting)} / {_span(r.latency)}",
            f"{_span(r.age)} / {_span(r.freshness)}",
            f"[{style}]{r.status}[/{style}]",
        )
    return table


def _ago(now: dt.datetime, at: dt.datetime | None) -> str:
    return "never" if at is None else f"{_span(now - at)} ago"


def _span(value: dt.timedelta | None) -> str:
    """A duration as people say it: 45s, 12m, 3h, 2d."""
    if value is None:
        return "-"
    seconds = max(0, int(value.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"

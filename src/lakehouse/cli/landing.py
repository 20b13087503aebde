"""``lakehouse landing audit``: every landed file accounted for, from the landing folder on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lakehouse.cli.options import (
    DEFAULT_STORAGE,
    BundleRoot,
    Landing,
    Storage,
    existing_folder,
    landing_folder,
)
from lakehouse.cli.terminal import console, out, print_problems, print_verdict

app = typer.Typer(no_args_is_help=True, help="Account for the landed files.", rich_markup_mode=None)


@app.command("audit")
def landing_audit(
    storage: Storage = DEFAULT_STORAGE,
    domain: Annotated[
        str | None, typer.Option("--domain", help="Only this domain's datasets.")
    ] = None,
    landing: Landing = None,
    env: Annotated[str, typer.Option(help="The environment whose bronze tables to read.")] = "dev",
    root: BundleRoot = Path("."),
) -> None:
    """Reconcile every file under each dataset's landing folder with what became of it
    (ingested, unreadable, ignored by the name rule, not yet seen, changed after ingestion),
    append the result to <env>_platform.monitoring.landing_audit, and exit 1 when a file is
    unaccounted for."""
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.ingestion.landing_audit import Fate, audit_landing, save_audit
    from lakehouse.platform.domains import find_domains

    existing_folder(storage, "--storage")
    landing = landing_folder(landing, storage)
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
        print_problems(error)
        raise typer.Exit(1) from None
    audits = audit_landing(contracts, storage=storage, landing=landing, env=env)
    for audit in audits:
        print_verdict(audit.holds, audit)
        for file in audit.files:
            if file.fate is not Fate.INGESTED:
                note = f": {file.detail}" if file.detail else ""
                out.print(f"      {file.fate}: {file.path}{note}", soft_wrap=True, markup=False, highlight=False)  # fmt: skip
    table = save_audit(audits, storage=storage, env=env)
    console.print(f"saved to {env}_platform.monitoring.landing_audit ({table})", soft_wrap=True)
    if not all(audit.holds for audit in audits):
        raise typer.Exit(1)

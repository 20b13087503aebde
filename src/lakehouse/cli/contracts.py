"""``lakehouse contracts``: check the data contracts, and classify changes between versions."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated

import typer

from lakehouse.cli.terminal import console, fail, out, print_problems

app = typer.Typer(
    no_args_is_help=True, help="Check the domains' data contracts.", rich_markup_mode=None
)


@app.command("validate")
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
            print_problems(error)
    console.print(f"{len(files)} contract(s), {problems} problem(s)")
    if problems:
        raise typer.Exit(1)


@app.command("diff")
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
        print_problems(error)
        raise typer.Exit(1) from None
    except subprocess.CalledProcessError as error:
        fail(f"git: {error.stderr.strip()}")
    if refused:
        raise typer.Exit(1)

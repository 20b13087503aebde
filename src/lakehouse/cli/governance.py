"""``lakehouse governance``: the access rules the platform derives from classifications."""

from __future__ import annotations

from pathlib import Path

import typer

from lakehouse.cli.options import DEFAULT_STORAGE, BundleRoot, Env, Storage, existing_folder
from lakehouse.cli.terminal import console, out, print_problems

app = typer.Typer(
    no_args_is_help=True, help="Access rules from classifications.", rich_markup_mode=None
)


@app.command("grants")
def governance_grants(
    storage: Storage = DEFAULT_STORAGE,
    env: Env = "dev",
    root: BundleRoot = Path("."),
) -> None:
    """Print what the platform's grants job would run over the local catalog: the column
    masks the contracts call for on the tables there, then SELECT for everybody on general
    and public tables (a masked column no longer counting), revoked on the others."""
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.governance.column_masks import domain_masks
    from lakehouse.governance.row_filters import domain_row_filters
    from lakehouse.governance.table_grants import apply_governance, local_tables

    tables = local_tables(existing_folder(storage, "--storage"), env)
    try:
        masks, row_filters = domain_masks(root, env), domain_row_filters(root, env)
    except ConfigFileError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    # Each statement is printed as the job runs it; locally there is nothing to run it on.
    apply_governance(tables, masks, lambda statement: None, row_filters)


@app.command("masks")
def governance_masks(root: BundleRoot = Path("."), env: Env = "dev") -> None:
    """Print the column masks and row filters the contracts call for: a SQL function per
    schema, level and type and a SET MASK for every column classified above its table, and a
    row filter for each contract declaring rowFilter."""
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.governance.column_masks import domain_masks, mask_statements
    from lakehouse.governance.row_filters import domain_row_filters

    try:
        masks, row_filters = domain_masks(root, env), domain_row_filters(root, env)
    except ConfigFileError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    if not masks and not row_filters:
        out.print(f"no column is classified above its table and no contract filters rows in {env}")  # fmt: skip
    statements = mask_statements(masks)
    statements += [s for f in row_filters for s in (f.create_function(), f.set_filter())]
    for statement in statements:
        out.print(statement, soft_wrap=True, markup=False, highlight=False)


@app.command("check")
def governance_check(root: BundleRoot = Path(".")) -> None:
    """Check the governance rules over the repository (policy as code; CI runs it): every
    column classified above its table masked, no data above general readable outside its
    domain (grants, masks, row filters, sandpit reads without the data owner's approval), no
    share of data its classification keeps in, no domain pipeline, job or model reading a
    sandpit. Prints FILE:LINE: RULE: what breaks it, and exits 1 on any violation."""
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.governance.policy_check import RULES, check_repository

    try:
        violations = check_repository(root)
    except ConfigFileError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    base = root.resolve()
    for violation in violations:
        file = violation.file.resolve()
        shown = file.relative_to(base) if file.is_relative_to(base) else file
        out.print(f"{shown}:{violation.line}: {violation.rule}: {violation.message}", soft_wrap=True, markup=False, highlight=False)  # fmt: skip
    if violations:
        broken = sorted({v.rule for v in violations})
        console.print(f"[bold red]governance check:[/bold red] {len(violations)} violation(s) of {', '.join(broken)}", soft_wrap=True)  # fmt: skip
        raise typer.Exit(1)
    console.print(f"governance check: the {len(RULES)} rules hold ({', '.join(RULES)})", soft_wrap=True, highlight=False)  # fmt: skip

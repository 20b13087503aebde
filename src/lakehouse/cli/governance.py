"""``lakehouse governance``: the access rules the platform derives from classifications."""

from __future__ import annotations

from pathlib import Path

import typer

from lakehouse.cli.options import DEFAULT_STORAGE, BundleRoot, Env, Storage, existing_folder
from lakehouse.cli.terminal import out, print_problems

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
    from lakehouse.governance.table_grants import apply_governance, local_tables

    tables = local_tables(existing_folder(storage, "--storage"), env)
    try:
        masks = domain_masks(root, env)
    except ConfigFileError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    # Each statement is printed as the job runs it; locally there is nothing to run it on.
    apply_governance(tables, masks, run=lambda statement: None)


@app.command("masks")
def governance_masks(
    root: BundleRoot = Path("."),
    env: Env = "dev",
) -> None:
    """Print the column masks the contracts call for: a SQL function per schema, level and
    type, and a SET MASK for every bronze and silver column classified above its table."""
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.governance.column_masks import domain_masks, mask_statements

    try:
        masks = domain_masks(root, env)
    except ConfigFileError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    if not masks:
        out.print(f"no column is classified above its table in {env}: nothing to mask")
    for statement in mask_statements(masks):
        out.print(statement, soft_wrap=True, markup=False, highlight=False)

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

"""``lakehouse governance``: the access rules the platform derives from classifications."""

from __future__ import annotations

from typing import Annotated

import typer

from lakehouse.cli.options import DEFAULT_STORAGE, Storage, existing_folder
from lakehouse.cli.terminal import out

app = typer.Typer(
    no_args_is_help=True, help="Access rules from classifications.", rich_markup_mode=None
)


@app.command("grants")
def governance_grants(
    storage: Storage = DEFAULT_STORAGE,
    env: Annotated[str, typer.Option(help="The environment whose layers to grant.")] = "dev",
) -> None:
    """Print the table grants the platform's grants job would run over the local catalog:
    SELECT for everybody on general and public tables, revoked on the others."""
    from lakehouse.governance.access import table_access, table_grant_statements
    from lakehouse.governance.table_grants import local_tables

    tables = local_tables(existing_folder(storage, "--storage"), env)
    for statement in table_grant_statements(table_access(tables)):
        out.print(statement, soft_wrap=True, markup=False, highlight=False)

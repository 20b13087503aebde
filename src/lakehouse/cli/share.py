"""``lakehouse share``: the domains' Delta Sharing shares (``domains/*/shares/*.yml``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from lakehouse.cli.options import DEFAULT_STORAGE, BundleRoot, Env, Storage, existing_folder
from lakehouse.cli.terminal import console, fail, out, print_problems, start_spark

app = typer.Typer(
    no_args_is_help=True,
    help="Sharing data with third parties (Delta Sharing).",
    rich_markup_mode=None,
)


@app.command("list")
def share_list(root: BundleRoot = Path(".")) -> None:
    """Every share: its recipient, the tables it holds, and when it expires."""
    from lakehouse.governance.shares import ShareError, load_shares

    try:
        shares = load_shares(root)
    except ShareError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    if not shares:
        console.print("no share: no domains/<domain>/shares/*.yml")
        return
    table = Table(title="Shares")
    for column in ("share", "recipient", "tables", "environments", "expires"):
        table.add_column(column)
    today = date.today()
    for s in shares:
        expires = f"{s.share.expires}" + (" (expired)" if s.expired(today) else "")
        tables = ", ".join(t.table for t in s.share.tables)
        table.add_row(s.name, s.share.recipient.name, tables, ", ".join(s.share.environments), expires)  # fmt: skip
    out.print(table)


@app.command("preview")
def share_preview(
    name: Annotated[str, typer.Argument(help="The share, <domain>_<file name> or its file name.")],
    storage: Storage = DEFAULT_STORAGE,
    env: Env = "dev",
    limit: Annotated[int, typer.Option("--limit", metavar="N", help="Rows shown per table.")] = 20,
    root: BundleRoot = Path("."),
) -> None:
    """Show exactly the rows and columns the recipient would receive, from the local catalog
    under STORAGE: each table of the share as its view selects it (the shared columns, the
    rows its partition filter keeps), and what the share may not hold."""
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.engine import get_spark, sql
    from lakehouse.engine.graph.names import TableName
    from lakehouse.engine.storage.catalog import LocalCatalog
    from lakehouse.governance.classified_tables import classified_tables
    from lakehouse.governance.shares import find_share, load_shares, share_plan

    existing_folder(storage, "--storage")
    try:
        shares, tables = load_shares(root), classified_tables(root)
    except ConfigFileError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    try:
        declared = find_share(shares, name)
    except KeyError as error:
        fail(str(error.args[0]))
    views, refusals = share_plan(declared, tables, env)
    recipient = declared.share.recipient.name
    for refusal in refusals:
        console.print(f"[bold red]left out[/bold red] ({declared.file}:{refusal.line}): {escape(refusal.message)}", soft_wrap=True)  # fmt: skip
    if not views:
        fail(f"share {declared.name} holds nothing {recipient} may receive")
    catalog = LocalCatalog(storage)
    missing = [".".join(v.source) for v in views if not catalog.exists(TableName(*v.source))]
    if missing:
        fail(f"no table {', '.join(missing)} under {storage} (the demo writes dev's tables; --env names the environment)")  # fmt: skip
    start_spark()
    spark = get_spark()
    for view in views:
        frame = sql(storage, view.query(), spark=spark)  # the view's query, over local tables
        rows = frame.count()
        out.print(f"{recipient} receives {'.'.join(view.view)} ({rows} row(s), from {'.'.join(view.source)}):", soft_wrap=True, highlight=False, markup=False)  # fmt: skip
        shown = Table()
        for column in frame.columns:
            shown.add_column(column)
        for row in frame.limit(limit).collect():
            shown.add_row(*("NULL" if v is None else str(v) for v in row))
        out.print(shown)
    if refusals:
        raise typer.Exit(1)

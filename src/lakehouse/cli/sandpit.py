"""``lakehouse sandpit``: create, list and expire innovation sandpits (``sandpits/*.yml``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lakehouse.cli.options import DEFAULT_STORAGE, BundleRoot, Storage, existing_folder
from lakehouse.cli.terminal import console, fail, out, print_problems

app = typer.Typer(
    no_args_is_help=True,
    help="Temporary, segregated schemas for experiments, dropped when they expire.",
    rich_markup_mode=None,
)


@app.command("create")
def sandpit_create(
    name: Annotated[str, typer.Argument(help="The sandpit's name, a lower-case identifier.")],
    owner: Annotated[str, typer.Option("--owner", metavar="EMAIL", help="Who answers for it.")],
    days: Annotated[int, typer.Option("--days", metavar="N", help="How many days it lasts.")],
    purpose: Annotated[
        str | None, typer.Option("--purpose", metavar="TEXT", help="What the experiment is for.")
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            "--group", metavar="GROUP", help="An account group sharing the owner's privileges."
        ),
    ] = None,
    reads: Annotated[
        list[str] | None,
        typer.Option(
            "--read", metavar="TABLE", help="A table it may read: LAYER.SCHEMA.TABLE (repeatable)."
        ),
    ] = None,
    root: BundleRoot = Path("."),
) -> None:
    """Write sandpits/NAME.yml: a schema NAME in every environment's sandpit catalog
    (<env>_sandpit), where the owner holds every privilege until it expires in N days. Data
    above general that it reads needs its data owner's approval in the file (governance
    check says which)."""
    from lakehouse.governance.sandpits import new_sandpit, write_sandpit

    try:
        sandpit = new_sandpit(name, owner, days, date.today(), purpose, group, tuple(reads or ()))
        file = write_sandpit(root, sandpit)
    except (ValueError, FileExistsError) as error:
        fail(str(error))
    console.print(
        f"created {file}: schema <env>_sandpit.{sandpit.name} in every environment until "
        f"{sandpit.expires}; commit it, and the platform's next deployment creates it",
        soft_wrap=True,
        highlight=False,
    )
    if sandpit.reads:
        console.print(
            "data above general needs its data owner's approval under `reads` (approval: {by, "
            "when, reference}); `lakehouse governance check` says which reads need one",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )


@app.command("list")
def sandpit_list(root: BundleRoot = Path(".")) -> None:
    """Every sandpit: owner, purpose, expiry, days left, and the data it may read."""
    from lakehouse.governance.sandpits import SandpitError, load_sandpits

    try:
        sandpits = load_sandpits(root)
    except SandpitError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    if not sandpits:
        console.print(f"no sandpit: sandpits/ under {root.resolve()} holds no file")
        return
    today = date.today()
    table = Table(title="Sandpits")
    for column in ("name", "owner", "expires", "days left", "reads", "purpose"):
        table.add_column(column)
    for s in sandpits:
        left = (s.expires - today).days
        table.add_row(
            s.name,
            s.owner,
            str(s.expires),
            "expired" if left < 0 else str(left),
            ", ".join(r.table + (" (approved)" if r.approval else "") for r in s.reads) or "-",
            s.purpose,
        )
    out.print(table)


@app.command("expire")
def sandpit_expire(storage: Storage = DEFAULT_STORAGE, root: BundleRoot = Path(".")) -> None:
    """Drop the local sandpit schemas (STORAGE/catalog/<env>_sandpit/<name>) that expired, or
    that no sandpit file declares, as the daily cleanup job does on Databricks."""
    from lakehouse.governance.sandpits import SandpitError, expire_local, load_sandpits

    existing_folder(storage, "--storage")
    try:
        sandpits = load_sandpits(root)
    except SandpitError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    dropped = expire_local(storage, sandpits, date.today())
    for found in dropped:
        why = "no sandpit file declares it" if found.sandpit is None else f"expired {found.sandpit.expires}"  # fmt: skip
        tables = ", ".join(found.tables) or "no table"
        out.print(f"dropped {found.env}_sandpit.{found.name} ({why}): {tables}", highlight=False)
    if not dropped:
        console.print("no local sandpit has expired")

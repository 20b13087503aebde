"""``lakehouse domain``: scaffold a new business domain, and list the registry's domains."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from lakehouse.cli.options import BundleRoot
from lakehouse.cli.terminal import console, fail, out, print_problems

app = typer.Typer(
    no_args_is_help=True, help="Create and list the business domains.", rich_markup_mode=None
)


@app.command("new")
def domain_new(
    name: Annotated[str, typer.Argument(help="The domain's name, a lower-case identifier.")],
    owner: Annotated[str, typer.Option(help="The data owner's e-mail.")],
    cost_centre: Annotated[str, typer.Option("--cost-centre", help="For the cost tags.")],
    self_service: Annotated[
        Literal["self-serve", "managed"],
        typer.Option("--self-service", help="Who deploys the domain's resources."),
    ] = "self-serve",
    sql: Annotated[
        bool, typer.Option("--sql", help="Write the gold pipeline in SQL instead of Python.")
    ] = False,
    root: BundleRoot = Path("."),
) -> None:
    """Scaffold domains/NAME (registry entry, example contract, gold pipeline, resource,
    sample data, test) and regenerate the targets."""
    from lakehouse.bundle.scaffold import ScaffoldError, new_domain
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.platform.registry import SelfService

    level = SelfService(self_service)  # one of its values: the option's choices
    try:
        folder = new_domain(
            root, name, owner=owner, cost_centre=cost_centre, self_service=level, sql=sql
        )
    except ConfigFileError as error:  # the registry, or the new entry (a bad owner)
        print_problems(error)
        fail("nothing was created")
    except ScaffoldError as error:  # a bad name, or a domain that exists
        fail(str(error))
    console.print(f"created {folder}; targets {name}-dev, {name}-test and {name}-prod added")
    console.print(
        "next: edit domain.yml (workspaces, service principals), then see docs/domains.md"
    )


@app.command("list")
def domain_list(root: BundleRoot = Path(".")) -> None:
    """The domains of the registry: owner, self-service level, source systems and targets."""
    from lakehouse.platform.domains import Domain
    from lakehouse.platform.registry import ENVS, RegistryError, load_registry

    try:
        _, domains = load_registry(root)
    except RegistryError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    table = Table(title="Domains")
    for column in ("domain", "owner", "self-service", "source systems", "targets"):
        table.add_column(column)
    for spec in domains:
        systems = Domain(root / "domains" / spec.name).source_systems
        targets = ", ".join(f"{spec.name}-{env}" for env in ENVS)
        table.add_row(spec.name, spec.owner, spec.self_service.value, ", ".join(systems), targets)
    out.print(table)

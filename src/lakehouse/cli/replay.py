"""``lakehouse replay``: rebuild a domain's silver and gold from bronze's history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lakehouse.cli.options import (
    DEFAULT_STORAGE,
    BundleRoot,
    Env,
    Landing,
    Storage,
    existing_folder,
    landing_folder,
)
from lakehouse.cli.terminal import console, out, print_problems, print_progress, start_spark


def replay_command(
    domain: Annotated[str, typer.Option("--domain", metavar="NAME", help="The domain to replay.")],
    storage: Storage = DEFAULT_STORAGE,
    env: Env = "dev",
    landing: Landing = None,
    root: BundleRoot = Path("."),
) -> None:
    """Rebuild DOMAIN's silver (and quarantine) from bronze's append-only history, then its
    gold, with the pipeline code as it is now: the way back from a bad silver deploy. Bronze is
    left as it is. The replaced tables are copied first (under STORAGE/replay/; copying one
    back undoes the replay), and each rebuilt table is compared with its copy (rows only
    before, only after; no value is shown)."""
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.operations.replay import replay_domain
    from lakehouse.platform.domains import find_domains

    existing_folder(storage, "--storage")
    landing = landing_folder(landing, storage)
    domains = {d.name: d for d in find_domains(root / "domains")}
    if domain not in domains:
        raise typer.BadParameter(f"no domain {domain!r}; the domains are {', '.join(domains)}", param_hint="--domain")  # fmt: skip
    try:
        domains[domain].contracts  # noqa: B018 - a broken contract is named before Spark starts
    except ConfigFileError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    start_spark()
    replay = replay_domain(domains[domain], storage=storage, landing=landing, env=env, on_progress=print_progress)  # fmt: skip
    for table in replay.tables:
        out.print(str(table), soft_wrap=True, highlight=False, markup=False)
    changed = [t for t in replay.tables if not t.same]
    console.print(
        f"replayed {domain} in {replay.seconds:.1f}s: {len(replay.tables) - len(changed)} table(s) as before, {len(changed)} changed",
        soft_wrap=True,
        highlight=False,
    )

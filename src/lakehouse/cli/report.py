"""``lakehouse report``: the run report, one HTML page to open or pass around."""

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
from lakehouse.cli.terminal import console, fail, out, print_problems


def report_command(
    storage: Storage = DEFAULT_STORAGE,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Where to write the page; <storage>/report.html when omitted.",
        ),
    ] = None,
    env: Env = "dev",
    landing: Landing = None,
    root: BundleRoot = Path("."),
) -> None:
    """Write the run report: one self-contained HTML page with each domain's pipeline graph,
    rows per hop from landing to gold, expectation results and the quarantine, conservation
    from landing, freshness against the contracts' SLAs and the recent updates. Reads the
    storage folder only (no Spark); prints the page's path."""
    from lakehouse.contracts.problems import ConfigFileError
    from lakehouse.operations.report_page import REPORT_FILE, write_report
    from lakehouse.operations.run_report import build_report
    from lakehouse.platform.domains import find_domains

    existing_folder(storage, "--storage")
    landing = landing_folder(landing, storage)
    target = out_file or storage / REPORT_FILE
    if target.is_dir():
        raise typer.BadParameter(
            f"{target} is a folder; name the file to write", param_hint="--out"
        )
    try:
        report = build_report(find_domains(root / "domains"), storage, env=env, landing=landing)
    except ConfigFileError as error:
        print_problems(error)
        raise typer.Exit(1) from None
    try:
        written = write_report(report, target)
    except OSError as error:
        fail(f"cannot write the report to {target}: {error.strerror or error}")
    problems = [f"{d.name}: {p}" for d in report.domains for p in d.problems]
    for problem in problems:
        console.print(f"[bold red]problem:[/bold red] {problem}", soft_wrap=True, highlight=False)
    out.print(str(written), soft_wrap=True, highlight=False)

"""``lakehouse bundle``: generate the bundle's targets, validate it with the real Databricks CLI,
and find the domains a change touches."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from lakehouse.cli.options import BundleRoot
from lakehouse.cli.terminal import console, fail, out, print_problems

app = typer.Typer(
    no_args_is_help=True, help="Generate and check the Databricks bundle.", rich_markup_mode=None
)


@app.command("sync-targets")
def bundle_sync_targets(
    root: BundleRoot = Path("."),
    check: Annotated[
        bool,
        typer.Option("--check", help="Only report whether the generated files are out of date."),
    ] = False,
) -> None:
    """Regenerate the bundle's targets (resources/targets.yml) and .github/CODEOWNERS from
    domains/platform.yml, domains/*/domain.yml and domains/*/models/*.yml."""
    from lakehouse.bundle.targets import stale_files, sync_targets
    from lakehouse.contracts.problems import ConfigFileError

    try:
        if check:
            stale = stale_files(root)
            for file in stale:
                console.print(f"{file.relative_to(root)}: out of date")
            if not stale:
                console.print("resources/targets.yml and .github/CODEOWNERS: up to date")
            raise typer.Exit(1 if stale else 0)
        changed = sync_targets(root)
    except ConfigFileError as error:  # the registry's, or a model file's
        print_problems(error)
        raise typer.Exit(1) from None
    for file in changed:
        console.print(f"{file.relative_to(root)}: rewritten")
    if not changed:
        console.print("resources/targets.yml and .github/CODEOWNERS: already up to date")


@app.command("validate")
def bundle_validate(
    root: BundleRoot = Path("."),
    targets: Annotated[
        list[str] | None, typer.Option("--target", "-t", help="Only this target (repeatable).")
    ] = None,
    plan: Annotated[
        bool, typer.Option("--plan", help="Also print each target's `databricks bundle plan`.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail when a check was skipped (no CLI, no schema).")
    ] = False,
) -> None:
    """Check the bundle per target with the real Databricks CLI (`bundle validate --strict`,
    against a stand-in workspace on 127.0.0.1), or offline as far as possible without it, and
    the platform's guardrails. Says which checks were skipped, and why."""
    from lakehouse.bundle.validate import validate_bundle

    report = validate_bundle(root, targets or (), plan=plan)
    for skipped in report.skipped:
        console.print(f"[yellow]skipped:[/yellow] {skipped}", soft_wrap=True)
    for name, planned in report.plans.items():
        out.print(f"{name}:\n{planned}", soft_wrap=True, markup=False, highlight=False)
    for scope, problems in report.problems.items():
        console.print(f"[bold]{scope}[/bold]: {len(problems)} problem(s)")
        for problem in problems:
            out.print(f"  {problem}", soft_wrap=True, markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(1)
    scope = ", ".join(targets) if targets else "every target"
    if report.skipped:
        console.print(f"bundle: {scope}: no problem found, but {len(report.skipped)} check(s) skipped")  # fmt: skip
        raise typer.Exit(1 if strict else 0)
    console.print(f"bundle: {scope} valid (Databricks CLI validate --strict and guardrails)")


@app.command("changed")
def bundle_changed(
    base: Annotated[str, typer.Option(help="The git ref to compare with, such as origin/main.")],
    root: BundleRoot = Path("."),
) -> None:
    """Print, as a JSON list, the domains (and platform) whose targets the changes since BASE
    touch: the workflows' matrix."""
    from lakehouse.bundle.changes import changed_domains, files_changed_since

    try:
        changed = changed_domains(root, files_changed_since(root, base))
    except subprocess.CalledProcessError as error:
        fail(f"git: {error.stderr.strip()}")
    out.print(json.dumps(changed), markup=False)

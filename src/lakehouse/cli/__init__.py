"""The ``lakehouse`` command line, one module per command group (``pipeline``, ``contracts``,
``bundle``, ``governance``, ``domain``, ``landing``, ``scoring``, ``sandpit``, ``share``, ``dr``, ``engine``) and one per top-level command (``demo``,
``sql``, ``monitor``, ``replay``, ``report``, ``test``). Its commands and flags are a stable contract: CI, other tooling and the docs call
them. Each command imports what it runs when it runs, so ``--help`` starts no Spark.

Example:
    $ lakehouse demo
    $ lakehouse sql "SELECT * FROM dev_gold.sales.daily_revenue"
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from lakehouse.cli import (
    bundle,
    contracts,
    demo,
    domain,
    dr,
    engine,
    governance,
    landing,
    monitor,
    pipeline,
    replay,
    report,
    run_tests,
    sandpit,
    scoring,
    share,
    sql,
)
from lakehouse.cli.terminal import console, out

__all__ = ["app", "main"]

# Errors are reported by main() in one paragraph, never as a traceback.
# Plain click help: value names (--storage DIR), not Typer's Python types (<path>, <bool>).
app = typer.Typer(
    no_args_is_help=True,
    help="Run the lakehouse platform locally.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("demo")(demo.demo_command)
app.command("sql")(sql.sql_command)
app.command("monitor")(monitor.monitor_command)
app.command("replay")(replay.replay_command)
app.command("report")(report.report_command)
app.command("test", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    run_tests.test_command
)
for group in (
    pipeline,
    contracts,
    bundle,
    governance,
    domain,
    landing,
    scoring,
    sandpit,
    share,
    dr,
    engine,
):
    app.add_typer(group.app, name=group.__name__.rpartition(".")[2])


def _show_version(show: bool) -> None:
    if show:
        from importlib.metadata import version

        out.print(f"lakehouse {version('lakehouse')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _lakehouse(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Run the lakehouse platform locally."""


def plain_value_names(command: Any) -> Any:
    """``command`` and its subcommands with click's value names in help (``--catalog
    CATALOG``) where Typer would show Python types (``<str>``), and none for flags."""
    for param in command.params:
        if param.param_type_name == "argument":  # its NAME says it: no type after it
            param.display_type_rich = lambda ctx: None
            param.metavar = param.metavar or (param.name or "").upper()
        elif param.metavar is None and param.name and not param.type_descriptor.is_choice:
            flag = param.type_descriptor.annotation is bool
            param.metavar = "" if flag else param.name.upper()
    for subcommand in getattr(command, "commands", {}).values():
        plain_value_names(subcommand)
    return command


def main() -> None:
    """The ``lakehouse`` command: an error nobody foresaw is still one paragraph, and its
    traceback goes to a file whose path is printed. Which table's values such an error quotes
    is unknown, so every quoted value is masked in both."""
    try:
        plain_value_names(typer.main.get_command(app))(prog_name="lakehouse")
    except KeyboardInterrupt:
        console.print("[bold yellow]canceled[/bold yellow] (Ctrl-C)")
        sys.exit(130)
    except Exception as error:
        import tempfile
        import traceback

        from lakehouse.engine.observability.masking import Masking

        masking = Masking("restricted")
        folder = Path(tempfile.gettempdir()) / "lakehouse-errors"
        folder.mkdir(exist_ok=True)
        log = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
        log.write_text(masking.text("".join(traceback.format_exception(error))))
        first = masking.text((str(error).strip().splitlines() or [""])[0])
        console.print(
            f"[bold red]error:[/bold red] {type(error).__name__}: {escape(first)}. This is a "
            f"bug of the lakehouse command; the full error is in {log}",
            soft_wrap=True,
            markup=True,
            highlight=False,
        )
        sys.exit(1)

"""What the ``lakehouse`` command prints, and where: progress and verdicts on stderr, results
(tables, JSON, statements) on stdout so that they can be piped."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from lakehouse.contracts.problems import ConfigFileError

console = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 200)


def fail(message: str) -> NoReturn:
    """Print ``error: message`` and exit 1: an expected error is one paragraph, no traceback."""
    from lakehouse.engine.observability.redaction import redacted

    console.print(f"[bold red]error:[/bold red] {escape(redacted(message))}", soft_wrap=True)
    raise typer.Exit(1)


def print_problems(error: ConfigFileError) -> None:
    """Every problem of a configuration file, one per line, with its file, line and field."""
    for problem in error.problems:
        out.print(str(problem), soft_wrap=True, markup=False, highlight=False)


def print_verdict(holds: bool, check: object) -> None:
    """One conservation line: ``ok`` or ``LOST``, then what was checked."""
    mark = "[green]ok[/green]" if holds else "[bold red]LOST[/bold red]"
    console.print(f"  {mark}  {escape(str(check))}", soft_wrap=True, highlight=False)


def print_progress(flow: str, status: str, result: Any) -> None:
    """A flow's progress, named by its table (and the flow, when it has a name of its own)."""
    table = getattr(result, "dataset", flow)
    named = table if flow == table else f"{table} [dim]({escape(flow)})[/dim]"
    console.print(f"  [dim]{status.lower():>9}[/dim]  {named}", soft_wrap=True, highlight=False)


def start_spark() -> None:
    """Start the local Spark session behind a progress line: it takes seconds, and a silent
    terminal looks stuck."""
    from lakehouse.engine import ConfigurationError, get_spark
    from lakehouse.engine.settings import SPARK_REMOTE

    remote = os.environ.get(SPARK_REMOTE)
    doing = "connecting to Spark Connect" if remote else "starting Spark (local, with Delta Lake)"
    try:
        with console.status(f"{doing}..."):
            get_spark()
    except ConfigurationError as error:  # a bad or unreachable LAKEHOUSE_SPARK_REMOTE
        fail(str(error))


def quiet_mlflow() -> None:
    """MLflow's INFO lines and its advice (integer columns, env_manager) would bury a run's
    summary; its errors still show."""
    import logging
    import os
    import warnings

    # MLflow sets its loggers' level when it is imported, from this variable (INFO unless set).
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"mlflow(\.|$)")

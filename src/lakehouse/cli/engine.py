"""``lakehouse engine``: start, stop and look at the warm engine, one resident Spark driver that
runs ``pipeline run``, ``sql`` and ``demo`` without starting a JVM each time
(``engine/warm/``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer

from lakehouse.cli.terminal import console, fail

if TYPE_CHECKING:
    from lakehouse.engine.warm.state import ServerState

app = typer.Typer(
    no_args_is_help=True,
    help="The warm engine: one resident Spark driver for pipeline run, sql and demo.",
    rich_markup_mode=None,
)

LOG_FILE = "server.log"


@app.command("start")
def engine_start(
    timeout: Annotated[
        int,
        typer.Option("--timeout", metavar="SECONDS", min=1, help="How long to wait for Spark."),
    ] = 300,
) -> None:
    """Start the warm engine in the background (a stale one is replaced), and wait until it
    answers. Its log is <state folder>/server.log."""
    from lakehouse.engine.settings import SPARK_REMOTE
    from lakehouse.engine.warm.state import forget, private_folder, read_state, state_folder

    if os.environ.get(SPARK_REMOTE):
        fail(
            f"{SPARK_REMOTE} is set: its Spark Connect server is a resident driver already, and "
            "every command reaches it without starting Spark; unset it for a local warm engine"
        )
    folder = state_folder()
    state = read_state(folder)
    if state is not None and state.alive:
        if state.fresh:
            console.print(f"the warm engine already runs (pid {state.pid})", highlight=False)
            return
        console.print("the warm engine is stale: stopping it", highlight=False)
        _stop(state)
    forget(folder)
    log = (private_folder(folder) / LOG_FILE).open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "lakehouse.engine.warm.server"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,  # it outlives this command and its terminal
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    with console.status("starting the warm engine (Spark with Delta Lake, warmed up)..."):
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = (folder / LOG_FILE).read_text(errors="replace").strip().splitlines()[-5:]
                fail(f"the warm engine stopped while starting (exit {process.returncode}): " + " | ".join(tail))  # fmt: skip
            state = read_state(folder)
            if state is not None and state.pid == process.pid and _answers(state.socket):
                console.print(f"the warm engine runs (pid {state.pid}, Spark {state.spark_version}); `lakehouse engine stop` stops it", highlight=False)  # fmt: skip
                return
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGTERM)
    fail(f"the warm engine did not start within {timeout}s; its log: {folder / LOG_FILE}")


@app.command("stop")
def engine_stop() -> None:
    """Stop the warm engine (a command it runs finishes first)."""
    from lakehouse.engine.warm.state import forget, read_state

    state = read_state()
    if state is None or not state.alive:
        forget()
        console.print("the warm engine is not running", highlight=False)
        return
    _stop(state)
    console.print(f"the warm engine (pid {state.pid}) stopped", highlight=False)


@app.command("status")
def engine_status() -> None:
    """Whether the warm engine runs, since when, and whether it is current (exit 1 when it
    does not run or is stale)."""
    from lakehouse.engine.warm.state import forget, read_state

    state = read_state()
    if state is None:
        console.print("the warm engine is not running", highlight=False)
        raise typer.Exit(1)
    if not state.alive:
        forget()
        console.print(f"the warm engine (pid {state.pid}) is gone: it stopped without `lakehouse engine stop`", highlight=False)  # fmt: skip
        raise typer.Exit(1)
    since = dt.datetime.fromtimestamp(state.started_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    current = "current" if state.fresh else "stale: packages, code or Spark settings changed since; `lakehouse engine start` replaces it"  # fmt: skip
    console.print(f"the warm engine runs: pid {state.pid}, Spark {state.spark_version}, since {since}, {current}", highlight=False)  # fmt: skip
    if not state.fresh:
        raise typer.Exit(1)


def _answers(path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(path)
        return True
    except OSError:
        return False


def _stop(state: ServerState) -> None:
    """Ask the server to stop; terminate it when it does not within 30 s."""
    from lakehouse.engine.warm.state import forget

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(state.socket)
            connection.sendall(json.dumps({"stop": True}).encode() + b"\n")
            connection.recv(64)
    except OSError:
        pass
    deadline = time.monotonic() + 30
    while state.alive and time.monotonic() < deadline:
        time.sleep(0.2)
    if state.alive:
        os.kill(state.pid, signal.SIGTERM)
    forget()

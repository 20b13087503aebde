"""The ``lakehouse`` command's front door: ``pipeline run``, ``sql``, ``demo`` and ``test`` go to the warm
engine when one runs and is current, and start cold as before when none does. A client never
loads Spark, Typer or Rich before it knows which: a warm ``lakehouse sql`` costs Python's start,
the fingerprint and the query.

A server that died, or that is stale (packages, the project's code or the Spark settings changed
since it started), is named in one line on standard error, and the command runs cold.
``LAKEHOUSE_ENGINE=cold`` skips the warm engine; so does ``LAKEHOUSE_SPARK_REMOTE``, whose Spark
Connect server is a resident driver already.

Example:
    $ lakehouse engine start
    $ lakehouse sql "SELECT count(*) FROM dev_gold.sales.daily_revenue"   # warm
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys

from lakehouse.engine.settings import SPARK_REMOTE
from lakehouse.engine.warm.state import fingerprint, forget, read_state

# Commands worth a warm driver: those that start Spark. A continuous run stays in its own
# process, where Ctrl-C stops it.
WARM_COMMANDS = (("pipeline", "run"), ("sql",), ("demo",), ("test",))


def warm_command(argv: list[str]) -> bool:
    """Whether ``argv`` (without the program name) is a command the warm engine runs.

    Example:
        >>> warm_command(["sql", "SELECT 1"]), warm_command(["pipeline", "run", "--continuous", "p"])
        (True, False)
        >>> warm_command(["sql", "--help"]), warm_command(["bundle", "validate"])
        (False, False)
    """
    if any(a in ("--help", "--continuous") for a in argv):
        return False
    return any(tuple(argv[: len(command)]) == command for command in WARM_COMMANDS)


def run_warm(argv: list[str]) -> int | None:
    """Run ``argv`` in the warm engine and return its exit code; None to run cold (no server,
    or one that cannot serve, said on standard error)."""
    if os.environ.get("LAKEHOUSE_ENGINE") == "cold" or not warm_command(argv):
        return None
    if os.environ.get(SPARK_REMOTE):  # the Connect server is the resident driver
        return None
    state = read_state()
    if state is None:
        return None
    if not state.alive:
        forget()
        return _cold(f"the warm engine (pid {state.pid}) is no longer running")
    mine = fingerprint()
    if state.fingerprint != mine:
        return _cold("the warm engine is stale: packages, the project's code or the Spark settings changed since it started")  # fmt: skip
    env = dict(os.environ)
    if sys.stdout.isatty():  # the server prints for this terminal's width
        env["COLUMNS"] = str(shutil.get_terminal_size().columns)
    request = {"argv": argv, "cwd": os.getcwd(), "env": env, "fingerprint": mine}
    try:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(state.socket)
    except OSError as error:
        return _cold(f"the warm engine does not answer ({error.strerror or error})")
    with connection:
        connection.sendall((json.dumps(request) + "\n").encode())
        try:
            for line in connection.makefile("r", encoding="utf-8"):
                message = json.loads(line)
                if "stream" in message:
                    stream = sys.stdout if message["stream"] == "out" else sys.stderr
                    stream.write(message["data"])
                    stream.flush()
                elif message.get("stale"):
                    return _cold("the warm engine is stale; running cold")
                elif "exit" in message:
                    return int(message["exit"])
        except KeyboardInterrupt:
            sys.stderr.write("canceled (Ctrl-C): the warm engine stops the command\n")
            return 130
    sys.stderr.write("error: the warm engine stopped during the command; run it again\n")
    return 1


def _cold(reason: str) -> None:
    sys.stderr.write(f"{reason}; running cold (`lakehouse engine start` starts a current one)\n")
    return None


def main() -> None:
    """The ``lakehouse`` console script: warm when it can, else the command line as always."""
    code = run_warm(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from lakehouse.cli import main as cold_main

    cold_main()

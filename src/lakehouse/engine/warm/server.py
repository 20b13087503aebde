"""The resident driver: ``python -m lakehouse.engine.warm.server`` starts Spark with Delta, warms
it, then runs the ``lakehouse`` commands its clients send over a Unix socket (readable by this
user only), one at a time: a command changes the process's working folder, environment and
standard streams while it runs, so commands queue rather than interleave (a waiting client is
told so). Each command's output streams back as it is written, then its exit code.

Protocol, one JSON object per line: the client sends ``{"argv", "cwd", "env", "fingerprint"}``
(or ``{"stop": true}``); the server answers ``{"stream": "out"|"err", "data"}`` lines, then
``{"exit": code}``, or ``{"stale": true}`` when the client's fingerprint is not its own.

Example:
    $ lakehouse engine start   # runs this module in the background
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lakehouse.engine.warm.state import (
    SOCKET_FILE,
    ServerState,
    fingerprint,
    forget,
    private_folder,
    state_folder,
)

Send = Callable[[dict[str, Any]], None]


class _Stream:
    """A text stream whose writes go to the client as they happen."""

    def __init__(self, name: str, send: Send) -> None:
        self.name, self.send = name, send
        self.encoding = "utf-8"

    def write(self, data: str) -> int:
        if data:
            self.send({"stream": self.name, "data": data})
        return len(data)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:  # as io streams without one say it
        raise io.UnsupportedOperation("a warm engine stream has no file descriptor")


class WarmServer:
    """The listening server; ``serve`` blocks until a client asks it to stop."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fingerprint = fingerprint()
        self.running = threading.Lock()  # one command at a time
        self.stopping = threading.Event()

    def serve(self) -> None:
        from lakehouse.engine import get_spark

        spark = get_spark()
        _warm_up(spark)
        path = self.folder / SOCKET_FILE
        path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        os.chmod(path, 0o600)
        listener.listen()
        listener.settimeout(0.5)  # to notice a stop request
        ServerState(os.getpid(), str(path), self.fingerprint, time.time(), spark.version).save(self.folder)  # fmt: skip
        try:
            while not self.stopping.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                threading.Thread(target=self._client, args=(connection,), daemon=True).start()
        finally:
            listener.close()
            with self.running:  # a command under way finishes before the process ends
                forget(self.folder)

    def _client(self, connection: socket.socket) -> None:
        sending = threading.Lock()
        gone = threading.Event()

        def send(message: dict[str, Any]) -> None:
            if gone.is_set():
                return
            with sending:
                try:
                    connection.sendall((json.dumps(message) + "\n").encode())
                except OSError:  # the client left (Ctrl-C): its command is being stopped
                    gone.set()

        with connection:
            request = json.loads(connection.makefile("r", encoding="utf-8").readline() or "{}")
            if request.get("stop"):
                self.stopping.set()
                send({"exit": 0})
                return
            if request.get("fingerprint") != self.fingerprint:
                send({"stale": True})
                return
            if self.running.locked():
                send({"stream": "err", "data": "warm engine busy: waiting for another command to finish\n"})  # fmt: skip
            with self.running:
                started = time.perf_counter()
                command = _Command(threading.get_ident())
                # A client that leaves (Ctrl-C) stops its command, as Ctrl-C stops a cold one.
                threading.Thread(target=_cancel_when_gone, args=(connection, command), daemon=True).start()  # fmt: skip
                try:
                    code = _run_command(request["argv"], request["cwd"], request["env"], send, command)  # fmt: skip
                except KeyboardInterrupt:  # delivered just as the command ended
                    code = 130
                # The server's log (server.log) says what ran, never the arguments' values.
                words = " ".join(_command_words(request["argv"]))
                print(f"{time.strftime('%H:%M:%S')} ran: {words} (exit {code}, {time.perf_counter() - started:.2f}s)", file=sys.__stdout__, flush=True)  # fmt: skip
            send({"exit": code})


class _Command:
    """The command a client's thread runs, and whether it may still be interrupted: only
    while the ``lakehouse`` command itself runs, never while the server restores its state."""

    def __init__(self, thread: int) -> None:
        self.thread = thread
        self.lock = threading.Lock()
        self.interruptible = False
        self.done = False

    def started(self) -> None:
        with self.lock:
            self.interruptible = True

    def finished(self) -> None:
        with self.lock:
            self.interruptible, self.done = False, True

    def interrupt(self) -> None:
        """KeyboardInterrupt in the command's thread, and every Spark job and stream of the
        session stopped, so that a call waiting on Spark returns to receive it."""
        from pyspark.sql import SparkSession

        with self.lock:
            if not self.interruptible:
                return
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread), ctypes.py_object(KeyboardInterrupt))  # fmt: skip
            self.interruptible = False
        # The resident session (this thread has no active one of its own).
        spark = SparkSession.builder.getOrCreate()
        for stream in spark.streams.active:
            stream.stop()
        spark.sparkContext.cancelAllJobs()


def _cancel_when_gone(connection: socket.socket, command: _Command) -> None:
    """Wait until the client closes its end (it sends nothing after its request), then
    interrupt its command if that still runs."""
    try:
        while connection.recv(1024):
            pass
    except OSError:
        pass
    if not command.done:
        command.interrupt()


def _run_command(
    argv: list[str], cwd: str, env: dict[str, str], send: Send, command: _Command | None = None
) -> int:
    """Run one ``lakehouse`` command as a cold process would: in the client's folder and
    environment, its output streamed; returns its exit code (130 when its client left).
    Modules the command imported from outside the installed packages (a pipeline's helpers)
    are forgotten afterwards, so the next run reads them again."""
    from lakehouse import cli
    from lakehouse.cli.terminal import out

    saved = (os.getcwd(), dict(os.environ), sys.stdout, sys.stderr, sys.argv)
    width = out.width
    modules = set(sys.modules)
    try:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update({**env, "LAKEHOUSE_ENGINE": "cold"})  # never forwarded again
        sys.stdout, sys.stderr = _Stream("out", send), _Stream("err", send)
        sys.argv = ["lakehouse", *argv]
        # Tables as wide as the client's terminal, as a cold run would print them.
        out.width = int(env.get("COLUMNS") or width)
        try:
            if command is not None:
                command.started()
            cli.main()
        except SystemExit as exit_:
            return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except KeyboardInterrupt:
            return 130
        finally:
            if command is not None:
                command.finished()
        return 0
    finally:
        sys.stdout.flush()
        cwd_before, env_before, sys.stdout, sys.stderr, sys.argv = saved
        out.width = width
        os.chdir(cwd_before)
        os.environ.clear()
        os.environ.update(env_before)
        for name in set(sys.modules) - modules:
            if _user_module(sys.modules.get(name)):
                sys.modules.pop(name, None)


def _command_words(argv: list[str]) -> list[str]:
    """The command's name (``pipeline run``, ``sql``): its arguments may hold data."""
    return [a for a in argv[:2] if not a.startswith("-") and a.isidentifier()][: 2 if argv[:1] == ["pipeline"] else 1]  # fmt: skip


def _user_module(module: Any) -> bool:
    file = getattr(module, "__file__", None) or ""
    installed = (sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parents[2]))
    return bool(file) and not file.startswith(installed)


def _warm_up(spark: Any) -> None:
    """Run the Delta paths every command takes once (write, read, merge), so that the first
    command does not pay for their class loading and compilation."""
    folder = Path(tempfile.mkdtemp(prefix="lakehouse-warm-up-"))
    try:
        path = str(folder / "table")
        spark.range(100).selectExpr("id", "id % 7 AS k").write.format("delta").save(path)
        spark.read.format("delta").load(path).groupBy("k").count().collect()
        spark.sql(
            f"MERGE INTO delta.`{path}` t USING (SELECT 1 AS id, 3 AS k) s ON t.id = s.id "
            "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """Serve until asked to stop; the state folder is the environment's (``state.py``)."""
    WarmServer(private_folder(state_folder())).serve()


if __name__ == "__main__":
    main()

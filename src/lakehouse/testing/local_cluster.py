"""Spark's servers on this machine, started with pyspark's own ``sbin/spark-daemon.sh``:
what proves that a pipeline runs away from its own process before it meets a real cluster.
See ``docs/scale-out.md``.

- ``standalone_cluster``: a master and workers on 127.0.0.1; the engine's driver runs the
  pipeline's tasks in executor processes it reaches over the network.
- ``connect_server``: a Spark Connect server with Delta Lake; the engine is its client and the
  driver is the server's.

pyspark's distribution has no ``start-master.sh`` or ``start-connect-server.sh``;
``spark-daemon.sh`` starts Spark's own ``Master``, ``Worker`` and ``SparkConnectServer``
classes as the full distribution's scripts do.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyspark

from lakehouse.engine.local_spark import delta_jar_options, spark_conf_folder, spark_options
from lakehouse.engine.settings import SparkSettings

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
CONNECT_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


@dataclass(frozen=True)
class StandaloneCluster:
    """A running standalone cluster: its master URL and the folder of its daemons' logs."""

    master: str  # spark://127.0.0.1:<port>, for LAKEHOUSE_SPARK_MASTER
    workers: int
    logs: Path

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of every daemon's log, to show when the cluster misbehaves."""
        return _log_tail(self.logs, lines)


@contextmanager
def standalone_cluster(
    folder: Path, *, workers: int = 2, cores: int = 1, memory: str = "2g", timeout: float = 60
) -> Iterator[StandaloneCluster]:
    """Start a master and ``workers`` workers on 127.0.0.1 (each offering ``cores`` cores and
    ``memory``), wait until every worker has registered, and stop them all on exit. Logs and
    pid files stay in ``folder``.

    Example:
        >>> with standalone_cluster(tmp_path) as cluster:  # doctest: +SKIP
        ...     os.environ["LAKEHOUSE_SPARK_MASTER"] = cluster.master
        ...     run_demo(tmp_path / "storage")
    """
    port, web_port = _free_port(), _free_port()
    cluster = StandaloneCluster(f"spark://127.0.0.1:{port}", workers, folder)
    env = _daemon_environment(folder, port)
    started: list[tuple[str, int]] = []
    try:
        _daemon(env, "start", MASTER_CLASS, 1,
                "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(web_port))  # fmt: skip
        started.append((MASTER_CLASS, 1))
        for number in range(1, workers + 1):
            _daemon(env, "start", WORKER_CLASS, number, cluster.master, "--host", "127.0.0.1",
                    "--cores", str(cores), "--memory", memory,
                    "--webui-port", str(_free_port()), "--work-dir", str(folder / f"work-{number}"))  # fmt: skip
            started.append((WORKER_CLASS, number))
        _wait_for_workers(cluster, web_port, timeout)
        yield cluster
    finally:
        for daemon, number in reversed(started):
            _daemon(env, "stop", daemon, number, check=False)


@dataclass(frozen=True)
class ConnectServer:
    """A running Spark Connect server: its endpoint and the folder of its log."""

    remote: str  # sc://127.0.0.1:<port>, for LAKEHOUSE_SPARK_REMOTE
    logs: Path

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log, to show when it misbehaves."""
        return _log_tail(self.logs, lines)


@contextmanager
def connect_server(
    folder: Path, *, master: str = "local[2]", timeout: float = 120
) -> Iterator[ConnectServer]:
    """Start a Spark Connect server on 127.0.0.1 whose driver (on ``master``) has Delta Lake
    and the engine's Spark settings, wait until it answers, and stop it on exit. Its log
    and pid file stay in ``folder``. Its Python workers (``foreachBatch`` functions, Python
    UDFs) run this interpreter, so they import this environment's packages.

    Example:
        >>> with connect_server(tmp_path) as server:  # doctest: +SKIP
        ...     os.environ["LAKEHOUSE_SPARK_REMOTE"] = server.remote
        ...     run_demo(tmp_path / "storage")
    """
    port = _free_port()
    server = ConnectServer(f"sc://127.0.0.1:{port}", folder)
    settings = SparkSettings.from_environment()
    options = {
        **spark_options(settings, master),
        **delta_jar_options(settings),
        "spark.app.name": "lakehouse connect",
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
    }
    env = {
        **_daemon_environment(folder, port),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_CONF_DIR": str(spark_conf_folder()),
    }
    conf = [argument for key, value in options.items() for argument in ("--conf", f"{key}={value}")]
    _daemon(env, "submit", CONNECT_CLASS, 1, *conf)
    try:
        _wait_for_port(port, timeout, server.log_tail)
        yield server
    finally:
        _daemon(env, "stop", CONNECT_CLASS, 1, check=False)


def _log_tail(folder: Path, lines: int) -> str:
    return "\n".join(
        f"== {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        for log in sorted(folder.glob("*.out"))
    )


def _daemon_environment(folder: Path, port: int) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_LOG_DIR": str(folder),
        "SPARK_PID_DIR": str(folder),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_IDENT_STRING": f"lakehouse-{port}",  # names the pid files: servers side by side
    }


def _daemon(env: dict[str, str], action: str, daemon: str, number: int, *args: str, check: bool = True) -> None:  # fmt: skip
    script = Path(env["SPARK_HOME"]) / "sbin" / "spark-daemon.sh"
    done = subprocess.run(
        ["bash", str(script), action, daemon, str(number), *args],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if check and done.returncode != 0:
        raise RuntimeError(f"spark-daemon.sh {action} {daemon} failed: {done.stdout}{done.stderr}")


def _wait_for_workers(cluster: StandaloneCluster, web_port: int, timeout: float) -> None:
    """Until the master's status page counts every worker ALIVE: a driver that connects
    before then waits for executors, or gets fewer than asked."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/json/", timeout=2) as page:
                alive = [w for w in json.load(page)["workers"] if w["state"] == "ALIVE"]
            if len(alive) >= cluster.workers:
                return
        except OSError:  # the master is not listening yet
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"the standalone cluster at {cluster.master} did not have {cluster.workers} worker(s) "
        f"within {timeout:.0f} s; its logs:\n{cluster.log_tail()}"
    )


def _wait_for_port(port: int, timeout: float, log_tail: Callable[[], str]) -> None:
    """Until something listens on ``port`` (the server started: Delta's jars may be fetched
    first, on a fresh machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(
        f"no Spark Connect server on port {port} within {timeout:.0f} s; its log:\n{log_tail()}"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

"""A Spark standalone cluster on this machine (a master and workers on 127.0.0.1), started
with pyspark's own ``sbin/spark-daemon.sh``: what proves that a pipeline runs on a cluster,
its tasks in executor processes the driver reaches over the network, before it meets a real
one. See ``docs/scale-out.md``.

pyspark's distribution has no ``start-master.sh``; ``spark-daemon.sh`` starts Spark's own
``Master`` and ``Worker`` classes as the full distribution's scripts do.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyspark

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


@dataclass(frozen=True)
class StandaloneCluster:
    """A running standalone cluster: its master URL and the folder of its daemons' logs."""

    master: str  # spark://127.0.0.1:<port>, for LAKEHOUSE_SPARK_MASTER
    workers: int
    logs: Path

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of every daemon's log, to show when the cluster misbehaves."""
        return "\n".join(
            f"== {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in sorted(self.logs.glob("*.out"))
        )


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
    folder.mkdir(parents=True, exist_ok=True)
    port, web_port = _free_port(), _free_port()
    cluster = StandaloneCluster(f"spark://127.0.0.1:{port}", workers, folder)
    env = {
        **os.environ,
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_LOG_DIR": str(folder),
        "SPARK_PID_DIR": str(folder),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_IDENT_STRING": f"lakehouse-{port}",  # names the pid files: clusters side by side
    }
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

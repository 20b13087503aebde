"""The warm engine: a resident driver runs `pipeline run`, `sql` and `demo` for its clients; a
dead or stale server is named and the command runs cold. The client's decisions are checked
without a server; the whole life of a real server (start, warm runs, two clients at once, a
client's Ctrl-C, the testing kit's `lakehouse test`, a stale client, a killed server, stop)
is the slow test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.engine.warm.client import run_warm, warm_command
from lakehouse.engine.warm.state import ServerState, fingerprint, read_state

LAKEHOUSE = str(Path(sys.executable).parent / "lakehouse")  # the console script, warm first
QUERY = "SELECT id, id * 2 AS twice FROM range(3)"
KIT_TEST = """
def test_the_kit_gets_a_session_of_the_running_driver(spark):
    assert spark.conf.get("spark.sql.adaptive.enabled") == "false"  # the kit's setting
    assert spark.range(3).count() == 3
"""


@pytest.fixture
def engine_home(tmp_path, monkeypatch) -> Path:
    """A state folder of the test's own: no real server is seen or disturbed."""
    home = tmp_path / "engine"
    monkeypatch.setenv("LAKEHOUSE_ENGINE_HOME", str(home))
    monkeypatch.delenv("LAKEHOUSE_ENGINE", raising=False)
    return home


def test_only_commands_that_start_spark_and_end_by_themselves_go_warm():
    assert warm_command(["sql", QUERY]) and warm_command(["demo"])
    assert warm_command(["pipeline", "run", "--storage", "x", "p.py"])
    assert not warm_command(["pipeline", "run", "--continuous", "p.py"])  # Ctrl-C stops it
    assert not warm_command(["pipeline", "validate", "p.py"])
    assert not warm_command(["engine", "status"]) and not warm_command(["sql", "--help"])


def test_without_a_server_a_command_runs_cold_and_says_nothing(engine_home, capsys):
    assert run_warm(["sql", QUERY]) is None
    assert capsys.readouterr().err == ""


def test_a_server_that_died_is_forgotten_and_the_command_runs_cold(engine_home, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    ServerState(dead.pid, str(engine_home / "engine.sock"), fingerprint(), time.time(), "4.2.0").save(engine_home)  # fmt: skip
    assert run_warm(["sql", QUERY]) is None
    assert f"the warm engine (pid {dead.pid}) is no longer running; running cold" in capsys.readouterr().err  # fmt: skip
    assert read_state(engine_home) is None


def test_a_server_started_before_a_change_is_stale_and_the_command_runs_cold(engine_home, capsys, monkeypatch):  # fmt: skip
    ServerState(os.getpid(), str(engine_home / "engine.sock"), fingerprint(), time.time(), "4.2.0").save(engine_home)  # fmt: skip
    monkeypatch.setenv("LAKEHOUSE_SHUFFLE_PARTITIONS", "7")  # a Spark setting it cannot take
    assert run_warm(["sql", QUERY]) is None
    assert "the warm engine is stale" in capsys.readouterr().err
    assert read_state(engine_home) is not None  # stale is not dead: `engine start` replaces it


def test_a_spark_connect_client_needs_no_warm_engine(engine_home, capsys, monkeypatch):
    ServerState(os.getpid(), str(engine_home / "engine.sock"), fingerprint(), time.time(), "4.2.0").save(engine_home)  # fmt: skip
    monkeypatch.setenv("LAKEHOUSE_SPARK_REMOTE", "sc://127.0.0.1:15002")
    assert run_warm(["sql", QUERY]) is None  # straight to the Connect server, nothing said
    assert capsys.readouterr().err == ""
    refused = CliRunner().invoke(app, ["engine", "start"])
    assert refused.exit_code == 1 and "LAKEHOUSE_SPARK_REMOTE is set" in refused.output


def _lakehouse(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LAKEHOUSE, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.slow  # a JVM for the server, two cold runs: about a minute
def test_a_real_server_runs_commands_warm_for_concurrent_clients_and_survives_none_of_its_faults(engine_home, tmp_path):  # fmt: skip
    cold = _lakehouse("sql", QUERY, env={**os.environ, "LAKEHOUSE_ENGINE": "cold"})
    assert cold.returncode == 0, cold.stderr
    started = _lakehouse("engine", "start")
    assert started.returncode == 0 and "the warm engine runs" in started.stderr, started.stderr
    log = engine_home / "server.log"
    try:
        assert _lakehouse("engine", "status").returncode == 0
        warm = _lakehouse("sql", QUERY)
        assert (warm.returncode, warm.stdout) == (0, cold.stdout)  # the same table, printed
        assert log.read_text().count("ran: sql (exit 0") == 1  # run by the server
        # Two clients at once: the second waits its turn, both get their own output.
        clients = [subprocess.Popen([LAKEHOUSE, "sql", f"SELECT {n} AS n"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in (1, 2)]  # fmt: skip
        outputs = [c.communicate(timeout=300) for c in clients]
        assert [c.returncode for c in clients] == [0, 0], outputs
        assert "│ 1 │" in outputs[0][0] and "│ 2 │" in outputs[1][0]
        assert log.read_text().count("ran: sql (exit 0") == 3
        # The testing kit: `lakehouse test` runs pytest in the server, whose `spark` fixture
        # is a session of the resident driver's with the kit's settings, the server's own kept.
        kit_test = tmp_path / "test_kit.py"
        kit_test.write_text(KIT_TEST)
        tested = _lakehouse("test", str(kit_test), "-q", "-p", "no:cacheprovider")
        assert tested.returncode == 0 and "1 passed" in tested.stdout, tested.stdout + tested.stderr
        assert "ran: test (exit 0" in log.read_text()
        adaptive = _lakehouse("sql", "SET spark.sql.adaptive.enabled", "--format", "json")
        assert '"value": "true"' in adaptive.stdout, adaptive.stdout + adaptive.stderr
        # Ctrl-C on a client stops its command in the server, as in a cold process: the next
        # command runs at once (the query would take hours).
        endless = subprocess.Popen([LAKEHOUSE, "sql", "SELECT max(id) FROM range(10000000000000)"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        time.sleep(5)
        endless.send_signal(signal.SIGINT)
        _, said = endless.communicate(timeout=60)
        assert endless.returncode == 130 and "canceled" in said, said
        next_one = subprocess.run([LAKEHOUSE, "sql", "SELECT 7 AS n"], capture_output=True, text=True, timeout=60)  # fmt: skip
        assert next_one.returncode == 0 and "│ 7 │" in next_one.stdout, next_one.stderr
        assert "ran: sql (exit 130" in log.read_text()
        # An error in the command is the command's, reported as a cold run reports it.
        broken = _lakehouse("sql", "SELECT * FROM main.nope.nothing")
        assert broken.returncode == 1 and "does not exist" in broken.stderr
        # A client with other Spark settings runs cold and says why.
        other = _lakehouse("sql", QUERY, env={**os.environ, "LAKEHOUSE_SHUFFLE_PARTITIONS": "3"})
        assert other.returncode == 0 and "stale" in other.stderr and other.stdout == cold.stdout
        # A killed server: the next command says so and runs cold; status says it is gone.
        state = read_state(engine_home)
        assert state is not None
        os.kill(state.pid, signal.SIGKILL)
        while state.alive:
            time.sleep(0.1)
        after = _lakehouse("sql", QUERY)
        assert after.returncode == 0 and "no longer running" in after.stderr
        assert after.stdout == cold.stdout
        assert _lakehouse("engine", "status").returncode == 1
    finally:
        _lakehouse("engine", "stop")
    assert read_state(engine_home) is None


def test_lakehouse_test_runs_pytest_with_its_arguments_and_exits_with_its_code(tmp_path):
    (tmp_path / "test_one.py").write_text("def test_passes():\n    pass\n\ndef test_fails():\n    assert 1 == 2\n")  # fmt: skip
    cold = {**os.environ, "LAKEHOUSE_ENGINE": "cold"}
    ran = _lakehouse("test", str(tmp_path / "test_one.py"), "-p", "no:cacheprovider", "-rf", env=cold)  # fmt: skip
    assert ran.returncode == 1 and "1 failed, 1 passed" in ran.stdout, ran.stdout
    assert "FAILED" in ran.stdout and "test_fails" in ran.stdout  # -rf reached pytest

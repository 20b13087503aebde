"""The engine's settings: read once from a pipeline's configuration and the environment, and
a wrong value named with its key before any data moves."""

from __future__ import annotations

import socket

import pytest

from lakehouse.engine import ConfigurationError
from lakehouse.engine.settings import EngineSettings, SparkSettings


def test_an_empty_configuration_gives_the_documented_defaults():
    settings = EngineSettings.of({}, environ={})
    assert settings.driver_write_max_batch_bytes == 128 * 1024 * 1024
    assert settings.driver_write_max_view_rows == 100_000
    assert settings.driver_read_max_rows == 100_000
    assert settings.trigger_interval is None
    assert settings.max_parallel_flows == 4


def test_configuration_keys_and_environment_variables_are_parsed():
    settings = EngineSettings.of(
        {"lakehouse.driverWrite.maxPythonBytes": "0", "pipelines.trigger.interval": "2 minutes"},
        environ={"LAKEHOUSE_MAX_PARALLEL_FLOWS": "1"},
    )
    assert settings.driver_write_max_python_bytes == 0
    assert settings.trigger_interval == 120
    assert settings.max_parallel_flows == 1


@pytest.mark.parametrize(
    ("configuration", "environ", "message"),
    [
        (
            {"lakehouse.driverRead.maxRows": "1e6"},
            {},
            "pipeline configuration 'lakehouse.driverRead.maxRows': expected a whole number, "
            "got '1e6'",
        ),
        (
            {"pipelines.trigger.interval": "soon"},
            {},
            "pipeline configuration 'pipelines.trigger.interval': expected an interval such as "
            "'500 milliseconds' or '5 seconds', got 'soon'",
        ),
        (
            {},
            {"LAKEHOUSE_MAX_PARALLEL_FLOWS": "0"},
            "environment variable LAKEHOUSE_MAX_PARALLEL_FLOWS: expected a whole number above 0, "
            "got '0'",
        ),
    ],
)
def test_a_wrong_value_names_its_key_what_was_expected_and_what_was_given(
    configuration, environ, message
):
    with pytest.raises(ConfigurationError) as error:
        EngineSettings.of(configuration, environ=environ)
    assert str(error.value) == message


def test_spark_settings_come_from_lakehouse_variables():
    settings = SparkSettings.from_environment(
        {"LAKEHOUSE_SPARK_MASTER": "local[1]", "LAKEHOUSE_SHUFFLE_PARTITIONS": "2"}
    )
    assert (settings.master, settings.shuffle_partitions, settings.driver_memory) == (
        "local[1]",
        2,
        "4g",
    )
    with pytest.raises(ConfigurationError, match="LAKEHOUSE_SHUFFLE_PARTITIONS"):
        SparkSettings.from_environment({"LAKEHOUSE_SHUFFLE_PARTITIONS": "many"})


def test_a_spark_connect_url_is_checked_and_its_parameters_never_shown():
    remote = "sc://connect.internal:15002/;token=abc123"
    assert SparkSettings.from_environment({"LAKEHOUSE_SPARK_REMOTE": remote}).remote == remote
    assert SparkSettings.from_environment({}).remote is None
    with pytest.raises(ConfigurationError) as error:
        SparkSettings.from_environment({"LAKEHOUSE_SPARK_REMOTE": "http://h:1/;token=abc123"})
    assert "LAKEHOUSE_SPARK_REMOTE" in str(error.value) and "sc://host" in str(error.value)
    assert "abc123" not in str(error.value) and "'http://h:1/'" in str(error.value)


def test_an_unreachable_spark_connect_server_is_named_at_once(monkeypatch):
    from lakehouse.engine.local_spark import get_spark

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("LAKEHOUSE_SPARK_REMOTE", f"sc://127.0.0.1:{port}")
    with pytest.raises(
        ConfigurationError, match=f"no Spark Connect server answers at 127.0.0.1:{port}"
    ):
        get_spark()

"""Every setting of the local engine, read and checked in one place, once.

Two sources, as on Databricks:

- a pipeline's ``configuration`` (``lakehouse.*`` and ``pipelines.*`` keys), which belongs to
  the pipeline and is the same in both runtimes: ``EngineSettings.of(configuration)``;
- the environment (``LAKEHOUSE_*`` variables), which belongs to the machine the engine runs on:
  ``SparkSettings.from_environment()`` and ``LAKEHOUSE_MAX_PARALLEL_FLOWS``.

A wrong value is a ``ConfigurationError`` naming the key, what was expected and what was given,
raised before any data moves.

    lakehouse.driverRead.maxRows         batch reads of at most this many rows go through
                                         delta-rs in the driver (storage/driver_reads.py)
    lakehouse.driverWrite.maxBatchBytes  micro-batches up to this size are written by delta-rs
    lakehouse.driverWrite.maxViewRows    materialized views up to this many rows likewise
    lakehouse.driverWrite.maxPythonBytes AUTO CDC batches up to this size are computed in Python
                                         (storage/driver_writes.py says why)
    lakehouse.sparkSink.minBackfillBytes a streaming table's first run over inputs larger than
                                         this is appended by Spark's own Delta sink
    pipelines.trigger.interval           how often continuous mode triggers, "5 seconds"
    lakehouse.env                        the pipeline's environment, dev, test or prod: in test
                                         and prod it never reads a sandpit (``<env>_sandpit``)

    LAKEHOUSE_SPARK_MASTER        Spark master URL (default local[*])
    LAKEHOUSE_SPARK_REMOTE        a Spark Connect endpoint, sc://host:port, instead of a driver
    LAKEHOUSE_DRIVER_MEMORY       spark.driver.memory (default 4g)
    LAKEHOUSE_SHUFFLE_PARTITIONS  spark.sql.shuffle.partitions (default 4)
    LAKEHOUSE_DRIVER_JAVA_OPTIONS spark.driver.extraJavaOptions
    LAKEHOUSE_JARS_CACHE          where the Delta jars are cached (default ~/.cache/lakehouse/ivy)
    LAKEHOUSE_SPARK_LOG_LEVEL     show Spark's own log at this level (default: off)
    LAKEHOUSE_MAX_PARALLEL_FLOWS  independent tables run side by side (default 4)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lakehouse.engine.errors import ConfigurationError

DRIVER_READ_MAX_ROWS = "lakehouse.driverRead.maxRows"
DRIVER_WRITE_MAX_BATCH_BYTES = "lakehouse.driverWrite.maxBatchBytes"
DRIVER_WRITE_MAX_VIEW_ROWS = "lakehouse.driverWrite.maxViewRows"
DRIVER_WRITE_MAX_PYTHON_BYTES = "lakehouse.driverWrite.maxPythonBytes"
SPARK_SINK_MIN_BACKFILL_BYTES = "lakehouse.sparkSink.minBackfillBytes"
TRIGGER_INTERVAL = "pipelines.trigger.interval"
ENV = "lakehouse.env"
ENVS = ("dev", "test", "prod")
# Each environment's sandpit catalog is <env>_sandpit (governance/sandpits.py); pipelines of
# these environments never read one.
SANDPIT_CATALOG = "sandpit"
SANDPIT_FREE_ENVS = ("test", "prod")
MAX_PARALLEL_FLOWS = "LAKEHOUSE_MAX_PARALLEL_FLOWS"
SPARK_REMOTE = "LAKEHOUSE_SPARK_REMOTE"

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|seconds?|minutes?|hours?)\s*\Z")
_UNIT_SECONDS = {"ms": 0.001, "millisecond": 0.001, "s": 1, "second": 1, "minute": 60, "hour": 3600}
_UNIT_SECONDS |= {f"{unit}s": seconds for unit, seconds in _UNIT_SECONDS.items() if len(unit) > 2}


@dataclass(frozen=True)
class EngineSettings:
    """How the engine runs one pipeline, from its configuration and the environment.

    Example:
        >>> EngineSettings.of({"lakehouse.driverWrite.maxViewRows": "0"}).driver_write_max_view_rows
        0
        >>> EngineSettings.of({"pipelines.trigger.interval": "250 milliseconds"}).trigger_interval
        0.25
    """

    driver_read_max_rows: int = 100_000
    driver_write_max_batch_bytes: int = 128 * 1024 * 1024
    driver_write_max_view_rows: int = 100_000
    # About 70,000 change events read from Parquet, fewer from JSON or CSV: up to there Python
    # computes an AUTO CDC batch faster than Spark's window functions.
    driver_write_max_python_bytes: int = 1024 * 1024
    spark_sink_min_backfill_bytes: int = 1024 * 1024
    trigger_interval: float | None = None  # seconds; None: continuous mode's own default
    max_parallel_flows: int = 4
    env: str | None = None  # None: a pipeline that does not say (a local one)

    @classmethod
    def of(
        cls, configuration: Mapping[str, str], environ: Mapping[str, str] = os.environ
    ) -> EngineSettings:
        """The settings a pipeline's configuration and the environment give."""
        defaults = cls()
        interval = configuration.get(TRIGGER_INTERVAL)
        return cls(
            driver_read_max_rows=_whole_number(
                configuration, DRIVER_READ_MAX_ROWS, defaults.driver_read_max_rows
            ),
            driver_write_max_batch_bytes=_whole_number(
                configuration, DRIVER_WRITE_MAX_BATCH_BYTES, defaults.driver_write_max_batch_bytes
            ),
            driver_write_max_view_rows=_whole_number(
                configuration, DRIVER_WRITE_MAX_VIEW_ROWS, defaults.driver_write_max_view_rows
            ),
            driver_write_max_python_bytes=_whole_number(
                configuration, DRIVER_WRITE_MAX_PYTHON_BYTES, defaults.driver_write_max_python_bytes
            ),
            spark_sink_min_backfill_bytes=_whole_number(
                configuration, SPARK_SINK_MIN_BACKFILL_BYTES, defaults.spark_sink_min_backfill_bytes
            ),
            trigger_interval=None if interval is None else interval_seconds(interval),
            max_parallel_flows=_positive_variable(
                environ, MAX_PARALLEL_FLOWS, defaults.max_parallel_flows
            ),
            env=_env(configuration),
        )


@dataclass(frozen=True)
class SparkSettings:
    """How the local Spark session starts, from ``LAKEHOUSE_*`` environment variables.

    Example:
        >>> SparkSettings.from_environment({"LAKEHOUSE_DRIVER_MEMORY": "8g"}).driver_memory
        '8g'
    """

    master: str = "local[*]"
    remote: str | None = None
    driver_memory: str = "4g"
    shuffle_partitions: int = 4
    driver_java_options: str | None = None
    jars_cache: Path = Path.home() / ".cache" / "lakehouse" / "ivy"
    log_level: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> SparkSettings:
        defaults = cls()
        return cls(
            master=environ.get("LAKEHOUSE_SPARK_MASTER") or defaults.master,
            remote=_connect_url(environ),
            driver_memory=environ.get("LAKEHOUSE_DRIVER_MEMORY") or defaults.driver_memory,
            shuffle_partitions=_positive_variable(
                environ, "LAKEHOUSE_SHUFFLE_PARTITIONS", defaults.shuffle_partitions
            ),
            driver_java_options=environ.get("LAKEHOUSE_DRIVER_JAVA_OPTIONS") or None,
            jars_cache=Path(environ.get("LAKEHOUSE_JARS_CACHE") or defaults.jars_cache),
            log_level=environ.get("LAKEHOUSE_SPARK_LOG_LEVEL") or None,
        )


def is_sandpit_catalog(catalog: str) -> bool:
    """Whether ``catalog`` is an environment's sandpit catalog.

    Example:
        >>> is_sandpit_catalog("prod_sandpit"), is_sandpit_catalog("prod_silver")
        (True, False)
    """
    return catalog.lower().endswith(f"_{SANDPIT_CATALOG}")


def _env(configuration: Mapping[str, str]) -> str | None:
    env = configuration.get(ENV)
    if env is not None and env not in ENVS:
        raise ConfigurationError(
            f"pipeline configuration '{ENV}': expected one of {', '.join(ENVS)}, got {env!r}"
        )
    return env


def interval_seconds(text: str, setting: str = TRIGGER_INTERVAL) -> float:
    """Seconds in an interval such as ``"100 milliseconds"`` or ``"5 seconds"``.

    Example:
        >>> interval_seconds("250 milliseconds")
        0.25
    """
    match = _INTERVAL.match(text)
    if match is None:
        raise ConfigurationError(
            f"pipeline configuration '{setting}': expected an interval such as "
            f"'500 milliseconds' or '5 seconds', got {text!r}"
        )
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _whole_number(configuration: Mapping[str, str], key: str, default: int) -> int:
    value = configuration.get(key, str(default))
    if not value.isdigit():
        raise ConfigurationError(
            f"pipeline configuration '{key}': expected a whole number, got {value!r}"
        )
    return int(value)


def _connect_url(environ: Mapping[str, str]) -> str | None:
    url = environ.get(SPARK_REMOTE) or None
    if url is not None and not re.match(r"sc://[^/:;]+(:\d+)?(/|/;.*)?\Z", url):
        shown = url.split(";", 1)[0]  # parameters may hold a token
        raise ConfigurationError(
            f"environment variable {SPARK_REMOTE}: expected a Spark Connect URL, "
            f"sc://host[:port][/;param=value...], got {shown!r}"
            + (" (its parameters not shown)" if shown != url else "")
        )
    return url


def _positive_variable(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name) or str(default)
    if not value.isdigit() or int(value) == 0:
        raise ConfigurationError(
            f"environment variable {name}: expected a whole number above 0, got {value!r}"
        )
    return int(value)

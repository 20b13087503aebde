"""The local Spark session: open-source Spark with Delta Lake's jars from Maven Central.

Delta's JVM jars are not on PyPI. Spark's own dependency resolver (``spark.jars.packages``)
fetches them from Maven Central on first use into a cache folder that survives between runs
(``$LAKEHOUSE_JARS_CACHE``, default ``~/.cache/lakehouse/ivy``), so a fresh machine needs
nothing but Python and Java. Processes that start Spark at once (the test suite's workers, two
terminals) take turns at that first resolution: Ivy's cache is not safe to fill concurrently.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import sys
import threading
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from filelock import FileLock
from py4j.java_gateway import JavaGateway
from pyspark import SparkConf, SparkContext
from pyspark.java_gateway import launch_gateway
from pyspark.logger import PySparkLogger
from pyspark.sql import SparkSession

from lakehouse.engine.errors import ConfigurationError
from lakehouse.engine.settings import SPARK_REMOTE, SparkSettings

DELTA_VERSION = "4.4.0"
_SPARK_CONF = Path(__file__).with_name("spark_conf")
DELTA_PACKAGE = f"io.delta:delta-spark_4.2_2.13:{DELTA_VERSION}"
JVM_NOTICE = b"WARNING: Using incubator modules:"

# Delta 4.4 declares transitive dependencies (Hadoop client, Jackson, Parquet, logging) that
# pyspark already ships in newer versions; two copies on one classpath break at run time.
_PROVIDED_BY_PYSPARK = [
    "org.apache.hadoop:hadoop-client-api",
    "org.apache.hadoop:hadoop-client-runtime",
    "com.fasterxml.jackson.core:jackson-annotations",
    "com.fasterxml.jackson.core:jackson-core",
    "com.fasterxml.jackson.core:jackson-databind",
    "com.github.luben:zstd-jni",
    "com.google.code.findbugs:jsr305",
    "commons-logging:commons-logging",
    "commons-pool:commons-pool",
    "io.airlift:aircompressor",
    "org.apache.logging.log4j:log4j-api",
    "org.apache.logging.log4j:log4j-core",
    "org.apache.logging.log4j:log4j-slf4j2-impl",
    "org.apache.parquet:parquet-column",
    "org.apache.parquet:parquet-common",
    "org.apache.parquet:parquet-encoding",
    "org.apache.parquet:parquet-format-structures",
    "org.apache.parquet:parquet-hadoop",
    "org.apache.parquet:parquet-jackson",
    "org.locationtech.jts:jts-core",
    "org.roaringbitmap:RoaringBitmap",
    "org.slf4j:slf4j-api",
    "org.xerial.snappy:snappy-java",
]


def jars_cache_dir() -> Path:
    """Where the Delta jars are cached between runs (``LAKEHOUSE_JARS_CACHE``)."""
    return SparkSettings.from_environment().jars_cache


def cached_delta_jars() -> list[Path]:
    """The jars a previous resolution left in the cache, or [] if Delta's is not among them."""
    jars = jars_cache_dir() / "jars"
    delta_jar = jars / f"io.delta_delta-spark_4.2_2.13-{DELTA_VERSION}.jar"
    return sorted(jars.glob("*.jar")) if delta_jar.is_file() else []


def delta_jar_options(settings: SparkSettings) -> dict[str, str]:
    """Delta's jars: from the cache when a previous run resolved them (without resolution and
    its console noise), else resolved from Maven Central into it.

    Example:
        >>> sorted(delta_jar_options(SparkSettings()))  # before the first run  # doctest: +SKIP
        ['spark.jars.excludes', 'spark.jars.ivy', 'spark.jars.packages']
    """
    cached = cached_delta_jars()
    if cached:
        return {"spark.jars": ",".join(str(jar) for jar in cached)}
    return {
        "spark.jars.packages": DELTA_PACKAGE,
        "spark.jars.excludes": ",".join(_PROVIDED_BY_PYSPARK),
        "spark.jars.ivy": str(settings.jars_cache),
    }


def get_spark(master: str | None = None) -> SparkSession:
    """Return the process's Spark session with Delta Lake enabled, creating it on first use; with
    ``LAKEHOUSE_SPARK_REMOTE`` set, a Spark Connect session to that endpoint instead.

    Example:
        >>> spark = get_spark()
        >>> spark.range(3).write.format("delta").save("/tmp/example")  # doctest: +SKIP
    """
    settings = SparkSettings.from_environment()
    if settings.remote:
        _quiet_query_context_loggers()
        _check_reachable(settings.remote)
        # This process forks only to exec (the SQL parser's JVM, subprocesses); gRPC's fork
        # handlers are for children that keep using gRPC, and a fork during a call can break
        # the child before its exec. Read when gRPC loads, so set before the client does.
        os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
        return SparkSession.builder.remote(settings.remote).getOrCreate()
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    master = master or settings.master
    if master.startswith("local"):  # Python workers use this interpreter and its packages
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    options = spark_options(settings, master)
    # Spark's startup lines and task traces stay off the terminal (spark_conf/log4j2.properties
    # says why); Spark puts its configuration folder on the JVM's class path.
    os.environ.setdefault("SPARK_CONF_DIR", str(_SPARK_CONF))
    if cached_delta_jars():
        spark = _start({**options, **delta_jar_options(settings)})
    else:
        settings.jars_cache.mkdir(parents=True, exist_ok=True)
        with FileLock(settings.jars_cache / "resolve.lock"):  # the jars may be here by now
            spark = _start({**options, **delta_jar_options(settings)})
    if (
        settings.log_level
    ):  # every logger's, as setLogLevel would leave the file's Spark loggers at FATAL
        jvm = spark.sparkContext._jvm
        log4j = jvm.org.apache.logging.log4j  # type: ignore[union-attr]
        log4j.core.config.Configurator.setAllLevels("", log4j.Level.toLevel(settings.log_level))
    else:
        _quiet_query_context_loggers()
    return spark


def _check_reachable(url: str, timeout: float = 10) -> None:
    """Fail at once, naming the setting, when nothing listens at a Spark Connect URL: the
    client would otherwise retry for minutes before it says so."""
    address = urlsplit(url.replace(";", "?", 1))
    host, port = address.hostname or "", address.port or 15002
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        raise ConfigurationError(
            f"environment variable {SPARK_REMOTE}: no Spark Connect server answers at "
            f"{host}:{port} ({error.strerror or error})"
        ) from None


def _quiet_query_context_loggers() -> None:
    # PySpark logs each SQL or DataFrame error with its JVM trace, as JSON on standard error;
    # the engine reports the same error in one paragraph, so these stay quiet too.
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


def spark_options(settings: SparkSettings, master: str | None = None) -> dict[str, str]:
    """The Spark configuration of the engine's session (Delta's jars aside), for whatever
    must run Spark exactly as the engine does (a benchmark's other side).

    Example:
        >>> spark_options(SparkSettings())["spark.sql.session.timeZone"]
        'UTC'
    """
    warehouse = Path(os.environ.get("TMPDIR", "/tmp")) / f"lakehouse-warehouse-{os.getpid()}"
    options = {
        "spark.master": master or settings.master,
        "spark.app.name": "lakehouse",
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.driver.memory": settings.driver_memory,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.streaming.numRecentProgressUpdates": "100000",
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
    }
    if settings.driver_java_options:
        options["spark.driver.extraJavaOptions"] = settings.driver_java_options
    return options


def spark_conf_folder() -> Path:
    """The folder of the engine's ``log4j2.properties`` (Spark's log off the terminal)."""
    return _SPARK_CONF


def _start(options: dict[str, str]) -> SparkSession:
    """The session, over a JVM whose standard error goes through ``_forward_stderr``."""
    conf = SparkConf().setAll(list(options.items()))
    if SparkContext._gateway is None:  # no JVM yet in this process
        gateway = _launch_jvm(conf)
        SparkContext._gateway, SparkContext._jvm = gateway, gateway.jvm
    return SparkSession.builder.config(conf=conf).getOrCreate()


@functools.cache
def sql_parser() -> Any:
    """Spark's SQL parser (``SparkSqlParser``) in a JVM of its own, without a Spark driver:
    for a Spark Connect client, which has no driver in its process to ask, to parse a SQL
    file's queries exactly as a driver would. It starts once per process, in about 2 s.

    Example:
        >>> sql_parser().parsePlan("SELECT * FROM live.orders").nodeName()  # doctest: +SKIP
        'Project'
    """
    os.environ.setdefault("SPARK_CONF_DIR", str(_SPARK_CONF))
    gateway = _launch_jvm(SparkConf())
    return gateway.jvm.org.apache.spark.sql.execution.SparkSqlParser()


def _launch_jvm(conf: SparkConf) -> JavaGateway:
    """A JVM with Spark's classes, its standard error through ``_forward_stderr`` from its
    first line: a JVM that fails to start says why."""
    read_end, write_end = os.pipe()
    forward = threading.Thread(
        target=_forward_stderr, args=(os.fdopen(read_end, "rb"),), name="jvm-stderr", daemon=True
    )
    forward.start()
    try:
        gateway = launch_gateway(conf, popen_kwargs={"stderr": write_end})
    except Exception:
        os.close(write_end)
        forward.join(timeout=5)  # what the JVM said, before the error that it stopped
        raise
    os.close(write_end)  # the JVM holds its own copy
    return gateway


def _forward_stderr(stream: IO[bytes]) -> None:
    """Copy the JVM's standard error to ours, but for the notice the JVM prints on every start
    because Spark loads an incubator module (the vector API): the user can do nothing about it.
    Anything else (a failure, Spark's log when asked for) still shows."""
    for line in iter(stream.readline, b""):
        if JVM_NOTICE not in line:
            os.write(2, line)

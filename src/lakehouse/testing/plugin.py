"""The pytest plugin the lakehouse package registers (its ``pytest11`` entry point): the
fixtures every domain's tests and the platform's own tests share.

Spark loads when a test first asks for it, not when pytest loads the plugin, so that a test
run without Spark tests never starts a JVM.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from lakehouse.platform.domains import Domain
    from lakehouse.testing.local_lakehouse import LocalLakehouse

DOMAIN_FILE = "domain.yml"


# Test tables hold a handful of rows: compiling each query to Java (whole-stage codegen) and
# re-planning it at run time (adaptive execution) cost more than they save, about a sixth of
# a domain's end-to-end test. Results are the same either way.
TEST_SESSION_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
}


@pytest.fixture(scope="session")
def spark() -> SparkSession:
    """One local Spark session with Delta Lake for the whole test process: starting one costs
    seconds, so every test shares it. It is set for tiny tables (``TEST_SESSION_CONF``). Under
    ``lakehouse test`` with a warm engine, it is a session of the resident driver's, with
    settings of its own (``newSession``), so no JVM starts."""
    from pyspark import SparkContext

    from lakehouse.engine import get_spark

    resident = SparkContext._active_spark_context is not None
    session = get_spark("local[2]")
    if resident:  # the warm engine's: its own session keeps its settings
        session = session.newSession()
    for key, value in TEST_SESSION_CONF.items():
        session.conf.set(key, value)
    return session


@pytest.fixture
def lakehouse(tmp_path: Path, spark: SparkSession) -> LocalLakehouse:
    """An empty local lakehouse of the test's own, under its ``tmp_path``."""
    from lakehouse.testing.local_lakehouse import LocalLakehouse

    return LocalLakehouse(tmp_path / "lakehouse", spark)


@pytest.fixture(scope="module")
def domain(request: pytest.FixtureRequest) -> Domain:
    """The domain the test file belongs to: the nearest folder above it with a domain.yml."""
    from lakehouse.platform.domains import Domain

    test_file = Path(request.path).resolve()
    for folder in test_file.parents:
        if (folder / DOMAIN_FILE).is_file():
            return Domain(folder)
    raise pytest.UsageError(
        f"{test_file}: the domain fixture needs the test inside a domain's folder "
        f"(a folder with a {DOMAIN_FILE}); none of its parent folders has one"
    )

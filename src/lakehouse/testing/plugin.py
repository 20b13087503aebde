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


@pytest.fixture(scope="session")
def spark() -> SparkSession:
    """One local Spark session with Delta Lake for the whole test process: starting one costs
    seconds, so every test shares it."""
    from lakehouse.engine import get_spark

    return get_spark("local[2]")


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

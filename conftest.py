"""One Spark session per test process, shared by the framework's and the domains' tests."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession

from lakehouse.engine import get_spark


@pytest.fixture(scope="session")
def spark() -> SparkSession:
    return get_spark("local[2]")

"""The kit a domain team tests its pipelines with, on a laptop and in CI.

Installing the lakehouse package registers a pytest plugin (``lakehouse.testing.plugin``) with
three fixtures: ``spark`` (one local Spark session with Delta Lake per test process),
``lakehouse`` (a :class:`LocalLakehouse` under the test's ``tmp_path``) and ``domain`` (the
domain whose folder holds the test file). A domain's tests need no conftest of their own.

Example, a domain's ``tests/test_gold.py``::

    from lakehouse.testing import assert_table_equals

    def test_daily_revenue_sums_orders_per_day(lakehouse, domain, spark):
        lakehouse.seed("dev_silver.crm.orders", [("A", 10)], "order_id STRING, amount INT")
        lakehouse.run_pipelines(domain)
        expected = spark.createDataFrame([(10,)], "revenue BIGINT")
        assert_table_equals(lakehouse.table("dev_gold.sales.daily_revenue"), expected)

The names load on first use, so that pytest loading the plugin does not load Spark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakehouse.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from lakehouse.testing.asserts import assert_table_equals
    from lakehouse.testing.domain_batches import DomainBatches
    from lakehouse.testing.local_cluster import (
        ConnectServer,
        StandaloneCluster,
        connect_server,
        standalone_cluster,
    )
    from lakehouse.testing.local_lakehouse import LocalLakehouse
    from lakehouse.testing.scd2_expected import Version, current_versions, scd2_versions

__all__ = [
    "ConnectServer",
    "DomainBatches",
    "LocalLakehouse",
    "StandaloneCluster",
    "Version",
    "assert_table_equals",
    "connect_server",
    "current_versions",
    "scd2_versions",
    "standalone_cluster",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "assert_table_equals": "lakehouse.testing.asserts",
        "DomainBatches": "lakehouse.testing.domain_batches",
        "LocalLakehouse": "lakehouse.testing.local_lakehouse",
        "Version": "lakehouse.testing.scd2_expected",
        "current_versions": "lakehouse.testing.scd2_expected",
        "scd2_versions": "lakehouse.testing.scd2_expected",
        "ConnectServer": "lakehouse.testing.local_cluster",
        "StandaloneCluster": "lakehouse.testing.local_cluster",
        "connect_server": "lakehouse.testing.local_cluster",
        "standalone_cluster": "lakehouse.testing.local_cluster",
    },
)

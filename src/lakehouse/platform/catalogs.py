"""The platform's own catalog, ``<env>_platform``, beside the layers' catalogs: the scoring
control table (``scoring``), the views Delta Sharing shares (``sharing``), and the results of
the operational checks (``monitoring``: the landing audit, freshness, expectation and
conservation trends), the same names locally and in a workspace."""

from __future__ import annotations

PLATFORM_CATALOG = "platform"  # <env>_platform
MONITORING_SCHEMA = "monitoring"


def monitoring_table(env: str, name: str) -> str:
    """A monitoring results table's full name.

    Example:
        >>> monitoring_table("prod", "freshness")
        'prod_platform.monitoring.freshness'
    """
    return f"{env}_{PLATFORM_CATALOG}.{MONITORING_SCHEMA}.{name}"

"""The platform's table grants job: every table of an environment's layers gets the grants
its ``lakehouse.classification`` property calls for (``access.table_grant_statements``).

On Databricks the job runs this file (``spark_python_task``, ``--env <env>``) over Unity
Catalog; locally ``lakehouse governance grants --storage DIR`` prints what it would run over a
local catalog.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as the job's file: the bundle's synced src/ is the package root
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lakehouse.governance.access import table_access, table_grant_statements

LAYERS = ("bronze", "silver", "gold")


def workspace_tables(spark: Any, env: str) -> dict[str, dict[str, str]]:
    """Each table of ``<env>_bronze``, ``<env>_silver`` and ``<env>_gold`` with its properties,
    from Unity Catalog."""
    catalogs = ", ".join(f"'{env}_{layer}'" for layer in LAYERS)
    names = spark.sql(
        "SELECT table_catalog, table_schema, table_name FROM system.information_schema.tables "
        f"WHERE table_catalog IN ({catalogs}) AND table_schema <> 'information_schema'"
    ).collect()
    tables = {}
    for row in names:
        name = f"{row[0]}.{row[1]}.{row[2]}"
        properties = spark.sql(f"SHOW TBLPROPERTIES {name}").collect()
        tables[name] = {p["key"]: p["value"] for p in properties}
    return tables


def local_tables(storage: Path, env: str) -> dict[str, dict[str, str]]:
    """The same, from the local catalog under ``storage``.

    Example:
        >>> local_tables(Path(".lakehouse"), "dev")["dev_gold.hr.headcount_by_department"]  # doctest: +SKIP
        {'lakehouse.classification': 'general', ...}
    """
    from lakehouse.engine.catalog import LocalCatalog

    catalog = LocalCatalog(storage)
    return {
        str(name): catalog.properties(name)
        for name in catalog.tables()
        if name.catalog in {f"{env}_{layer}" for layer in LAYERS} and name.table != "event_log"
    }


def main(argv: list[str] | None = None) -> None:
    """The job's entry point: apply the grants of every table of ``--env``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", required=True, choices=["dev", "test", "prod"])
    env = parser.parse_args(argv).env
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    for statement in table_grant_statements(table_access(workspace_tables(spark, env))):
        print(statement)
        spark.sql(statement)


if __name__ == "__main__":
    main()

"""The platform's table grants job: every table of an environment's layers gets the grants
its ``lakehouse.classification`` property calls for (``access.table_grant_statements``).

The job applies them table by table and goes on past a failure: a table whose properties
cannot be read counts as unclassified (its grant is revoked), and no REVOKE is skipped because
something before it failed. It exits non-zero at the end, listing what failed.

On Databricks the job runs the project's wheel (``python_wheel_task``, entry point
``lakehouse-table-grants --env <env>``) over Unity Catalog; locally ``lakehouse governance grants --storage DIR`` prints what it would run over a
local catalog.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakehouse.governance.access import (
    Table,
    quoted_name,
    table_access,
    table_grant_statements,
)

LAYERS = ("bronze", "silver", "gold")


def workspace_tables(spark: Any, env: str) -> dict[Table, dict[str, str]]:
    """Each table of ``<env>_bronze``, ``<env>_silver`` and ``<env>_gold`` with its properties,
    from Unity Catalog. A table whose properties cannot be read has none: it counts as
    unclassified."""
    catalogs = ", ".join(f"'{env}_{layer}'" for layer in LAYERS)  # env is dev, test or prod
    names = spark.sql(
        "SELECT table_catalog, table_schema, table_name FROM system.information_schema.tables "
        f"WHERE table_catalog IN ({catalogs}) AND table_schema <> 'information_schema'"
    ).collect()
    tables: dict[Table, dict[str, str]] = {}
    for row in names:
        table = (str(row[0]), str(row[1]), str(row[2]))
        try:
            properties = spark.sql(f"SHOW TBLPROPERTIES {quoted_name(table)}").collect()
        except Exception as error:  # a table of a broken or dropped source: revoke, say so
            print(f"cannot read the properties of {quoted_name(table)}: {_first_line(error)}")
            properties = []
        tables[table] = {p["key"]: p["value"] for p in properties}
    return tables


def local_tables(storage: Path, env: str) -> dict[Table, dict[str, str]]:
    """The same, from the local catalog under ``storage``.

    Example:
        >>> local_tables(Path(".lakehouse"), "dev")[("dev_gold", "hr", "headcount_by_department")]  # doctest: +SKIP
        {'lakehouse.classification': 'general', ...}
    """
    from lakehouse.engine.storage.catalog import LocalCatalog

    catalog = LocalCatalog(storage)
    return {
        (name.catalog, name.schema, name.table): catalog.table(name).properties()
        for name in catalog.tables()
        if name.catalog in {f"{env}_{layer}" for layer in LAYERS} and name.table != "event_log"
    }


@dataclass(frozen=True)
class Failure:
    """A statement that failed, and the first line of why."""

    statement: str
    error: str


def apply_grants(statements: Iterable[str], run: Callable[[str], Any]) -> list[Failure]:
    """Run every statement, each on its own; the ones that failed.

    Example:
        >>> apply_grants(["GRANT ...", "REVOKE ..."], spark.sql)  # doctest: +SKIP
        []
    """
    failures = []
    for statement in statements:
        print(statement)
        try:
            run(statement)
        except Exception as error:  # one table's failure never stops the others' grants
            failures.append(Failure(statement, _first_line(error)))
            print(f"  failed: {_first_line(error)}")
    return failures


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def main(argv: list[str] | None = None) -> None:
    """The job's entry point: apply the grants of every table of ``--env``; exit 1 at the end
    when any failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", required=True, choices=["dev", "test", "prod"])
    env = parser.parse_args(argv).env
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    statements = table_grant_statements(table_access(workspace_tables(spark, env)))
    failures = apply_grants(statements, spark.sql)
    if failures:
        print(f"{len(failures)} of {len(statements)} grant statement(s) failed:")
        for failure in failures:
            print(f"  {failure.statement}: {failure.error}")
        sys.exit(1)

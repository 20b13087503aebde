"""The platform's daily recovery job on Databricks: every table of an environment's layers is
deep-cloned into the recovery catalog ``<env>_recovery`` (schema ``<layer>_<schema>``), whose
storage root the platform team points at another region. A deep clone copies data and
metadata, and running it again copies only what changed; streaming tables and materialized
views are cloned ``WITH HISTORY``, as Databricks requires for them. The newest clone is the
recovery point (the job runs daily: RPO about a day, within the 1.5-day target).

The tables are listed through databricks-sdk (with their type); the clones are SQL, run by the
job's Spark session. Every table goes on past another's failure; the job exits non-zero at the
end, listing what failed.

Example:
    $ lakehouse-deep-clone --env prod
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakehouse.engine.errors import first_message_line
from lakehouse.governance.access import Table, quoted_name
from lakehouse.sql_quoting import quote_identifier

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

LAYERS = ("landing", "bronze", "silver", "gold", "platform")
RECOVERY_CATALOG = "recovery"  # <env>_recovery
PIPELINE_TABLE_TYPES = ("STREAMING_TABLE", "MATERIALIZED_VIEW")


@dataclass(frozen=True)
class Clone:
    """One table's clone into the recovery catalog."""

    source: Table
    table_type: str

    @property
    def target(self) -> Table:
        catalog, schema, table = self.source
        env, _, layer = catalog.partition("_")
        return (f"{env}_{RECOVERY_CATALOG}", f"{layer}_{schema}", table)

    def statements(self) -> list[str]:
        """The SQL that (re)creates the clone, every identifier quoted.

        Example:
            >>> Clone(("prod_silver", "crm", "orders"), "STREAMING_TABLE").statements()[1]
            'CREATE OR REPLACE TABLE `prod_recovery`.`silver_crm`.`orders` DEEP CLONE `prod_silver`.`crm`.`orders` WITH HISTORY'
        """
        catalog, schema, _ = self.target
        history = " WITH HISTORY" if self.table_type in PIPELINE_TABLE_TYPES else ""
        clone = f"DEEP CLONE {quoted_name(self.source)}{history}"
        return [
            f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(catalog)}.{quote_identifier(schema)}",
            f"CREATE OR REPLACE TABLE {quoted_name(self.target)} {clone}",
        ]


def tables_to_clone(client: WorkspaceClient, env: str) -> tuple[list[Clone], list[str]]:
    """Every table of ``env``'s layers and platform catalog (views are definitions, not data),
    and what could not be listed."""
    clones, failures = [], []
    for catalog in (f"{env}_{layer}" for layer in LAYERS):
        try:
            schemas = [s.name for s in client.schemas.list(catalog_name=catalog) if s.name]
            for schema in (s for s in schemas if s != "information_schema"):
                for table in client.tables.list(catalog_name=catalog, schema_name=schema):
                    kind = str(getattr(table.table_type, "value", table.table_type) or "")
                    if table.name and kind != "VIEW":
                        clones.append(Clone((catalog, schema, table.name), kind))
        except Exception as error:  # a missing catalog must not stop the others
            failures.append(f"list {catalog}: {first_message_line(error)}")
    return clones, failures


def clone_all(clones: list[Clone], run_sql: Callable[[str], Any]) -> list[str]:
    """Run each clone's statements; what failed, each with the first line of why."""
    failures = []
    for clone in clones:
        try:
            for statement in clone.statements():
                run_sql(statement)
        except Exception as error:  # one table's failure never stops the others
            failures.append(f"{quoted_name(clone.source)}: {first_message_line(error)}")
    return failures


def main(argv: list[str] | None = None) -> None:
    """The job's entry point: clone every table of ``--env`` into its recovery catalog."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", required=True, choices=["dev", "test", "prod"])
    args = parser.parse_args(argv)
    from databricks.sdk import WorkspaceClient
    from pyspark.sql import SparkSession

    clones, failures = tables_to_clone(WorkspaceClient(), args.env)
    failures += clone_all(clones, SparkSession.builder.getOrCreate().sql)
    print(f"cloned {len(clones) - len(failures)} of {len(clones)} table(s) into {args.env}_{RECOVERY_CATALOG}")  # fmt: skip
    for failure in failures:
        print(f"failed: {failure}")
    if failures:
        sys.exit(1)

"""The platform's table grants job: the column masks the contracts call for
(``column_masks.py``) are set, then every table of an environment's layers gets the grants
its ``lakehouse.classification`` property calls for (``access.table_grant_statements``), a
masked column no longer counting against a wider grant.

The job applies them table by table and goes on past a failure: a table without a known
classification counts as above general (its grant is revoked), a schema whose tables cannot be
listed is reported, and no REVOKE is skipped because something before it failed. It exits
non-zero at the end, listing what failed.

On Databricks the job runs the project's wheel (``python_wheel_task``, entry point
``lakehouse-table-grants --env <env>``) over Unity Catalog: it lists the tables and their
properties and changes their grants through databricks-sdk, and creates and sets the masks and
row filters with SQL (Unity Catalog has no REST call that sets a column mask). Locally
``lakehouse governance grants --storage DIR`` prints what it would run over a local catalog.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakehouse.contracts.problems import ConfigFileError
from lakehouse.engine.errors import first_message_line
from lakehouse.governance.access import (
    EVERYBODY,
    Table,
    TableAccess,
    table_access,
    table_grant_statements,
)
from lakehouse.governance.column_masks import ColumnMask, domain_masks
from lakehouse.governance.row_filters import RowFilter, domain_row_filters

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

LAYERS = ("bronze", "silver", "gold")


def workspace_tables(client: WorkspaceClient, env: str) -> tuple[dict[Table, dict[str, str]], list[Failure]]:  # fmt: skip
    """Each table of ``<env>_bronze``, ``<env>_silver`` and ``<env>_gold`` with its properties,
    through the Unity Catalog API; and the schemas that could not be listed (their tables keep
    their grants: what cannot be read is not revoked blindly, and the job fails).

    Example:
        >>> tables, failures = workspace_tables(WorkspaceClient(), "prod")  # doctest: +SKIP
    """
    tables: dict[Table, dict[str, str]] = {}
    failures: list[Failure] = []
    for catalog in (f"{env}_{layer}" for layer in LAYERS):
        try:
            schemas = [s.name for s in client.schemas.list(catalog_name=catalog) if s.name]
        except Exception as error:  # a missing catalog must not stop the others
            failures.append(Failure(f"list the schemas of {catalog}", first_message_line(error)))
            continue
        for schema in schemas:
            if schema == "information_schema":
                continue
            try:
                for table in client.tables.list(catalog_name=catalog, schema_name=schema):
                    if table.name:
                        tables[(catalog, schema, table.name)] = dict(table.properties or {})
            except Exception as error:
                failures.append(Failure(f"list the tables of {catalog}.{schema}", first_message_line(error)))  # fmt: skip
    return tables, failures


def sdk_grant(client: WorkspaceClient) -> Callable[[TableAccess], None]:
    """Grant (or revoke) everybody's ``SELECT`` on a table as its access says, through the
    Unity Catalog API.

    Example:
        >>> apply_governance(tables, masks, spark.sql, filters, grant=sdk_grant(WorkspaceClient()))  # doctest: +SKIP
    """
    from databricks.sdk.service.catalog import PermissionsChange, Privilege

    def grant(access: TableAccess) -> None:
        select = [Privilege.SELECT]
        change = (
            PermissionsChange(principal=EVERYBODY, add=select)
            if access.readable_by_everybody
            else PermissionsChange(principal=EVERYBODY, remove=select)
        )
        client.grants.update(securable_type="table", full_name=".".join(access.table), changes=[change])  # fmt: skip

    return grant


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
            failures.append(Failure(statement, first_message_line(error)))
            print(f"  failed: {first_message_line(error)}")
    return failures


def apply_governance(
    tables: Mapping[Table, Mapping[str, str]],
    masks: Iterable[ColumnMask],
    run: Callable[[str], Any],
    row_filters: Iterable[RowFilter] = (),
    grant: Callable[[TableAccess], Any] | None = None,
) -> tuple[list[str], list[Failure]]:
    """Set the column masks and row filters of the tables that exist (``run``, SQL), then
    grant every table as its classification says (``grant``; without it, ``run`` with the
    GRANT or REVOKE statement), counting a classified column as masked only when its mask was
    set: a mask that failed never widens a grant, and a table whose row filter failed is
    revoked from everybody. Returns the statements run (a grant as its SQL) and those that
    failed.

    Example:
        >>> ran, failed = apply_governance(workspace_tables(spark, "prod"), domain_masks(root, "prod"), spark.sql)  # doctest: +SKIP
    """
    present = [m for m in masks if m.table in tables]
    filters = [f for f in row_filters if f.table in tables]
    functions = {m.function: m.create_function() for m in present}
    functions.update({f.function: f.create_function() for f in filters})
    statements = list(functions.values())
    failures = apply_grants(statements, run)
    failed = {f.statement for f in failures}
    masked: dict[Table, set[str]] = {}
    unfiltered: set[Table] = set()
    for mask in present:
        if functions[mask.function] not in failed:
            statements.append(set_mask := mask.set_mask())
            if not (set_failures := apply_grants([set_mask], run)):
                masked.setdefault(mask.table, set()).add(mask.column)
            failures += set_failures
    for row_filter in filters:
        if functions[row_filter.function] in failed:
            unfiltered.add(row_filter.table)
            continue
        statements.append(set_filter := row_filter.set_filter())
        if set_failures := apply_grants([set_filter], run):
            unfiltered.add(row_filter.table)
        failures += set_failures
    access = [
        TableAccess(a.table, None) if a.table in unfiltered else a  # None: revoked
        for a in table_access(tables, masked)
    ]
    grants = table_grant_statements(access)
    if grant is not None:
        by_statement = dict(zip(grants, access, strict=True))
        run = lambda statement: grant(by_statement[statement])  # noqa: E731
    return [*statements, *grants], failures + apply_grants(grants, run)


def main(argv: list[str] | None = None) -> None:
    """The job's entry point: set the column masks the contracts under ``--root`` call for,
    then apply the grants of every table of ``--env``; exit 1 at the end when any failed (or
    the contracts could not be read: then nothing is masked and no grant widens)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", required=True, choices=["dev", "test", "prod"])
    parser.add_argument("--root", type=Path, help="The synced bundle root (the contracts).")
    args = parser.parse_args(argv)
    from databricks.sdk import WorkspaceClient
    from pyspark.sql import SparkSession

    masks, row_filters, broken = [], [], False
    if args.root is not None:
        try:
            masks = domain_masks(args.root, args.env)
            row_filters = domain_row_filters(args.root, args.env)
        except ConfigFileError as error:
            print(f"cannot read the contracts, no column is masked:\n{error}")
            broken = True
    client = WorkspaceClient()
    spark = SparkSession.builder.getOrCreate()
    # Without the contracts no mask counts: a table with classified columns stays revoked.
    tables, failures = workspace_tables(client, args.env)
    statements, failed = apply_governance(tables, masks, spark.sql, row_filters, sdk_grant(client))  # fmt: skip
    failures += failed
    if failures:
        print(f"{len(failures)} of {len(statements)} grant statement(s) failed:")
        for failure in failures:
            print(f"  {failure.statement}: {failure.error}")
    if failures or broken:
        sys.exit(1)

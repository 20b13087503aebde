"""The platform's daily sandpit job, through databricks-sdk: in ``<env>_sandpit`` it drops
every schema whose expiry (its ``lakehouse.sandpit.expires`` property) has passed, or that no
sandpit file declares and carries no expiry (nobody answers for it); it grants each active
sandpit's owners ``SELECT`` on the data its file records an approval for, and takes that back
once the sandpit expires. General data needs no grant: everybody reads it.

Every action goes on past a failure; the job exits non-zero at the end, listing what failed.

Example:
    $ lakehouse-sandpit-cleanup --env prod --root /Workspace/.../files
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.contracts.problems import ConfigFileError
from lakehouse.engine.errors import first_message_line
from lakehouse.governance.access import Table
from lakehouse.governance.classified_tables import classified_tables
from lakehouse.governance.sandpits import Sandpit, load_sandpits, sandpit_catalog

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

EXPIRES = "lakehouse.sandpit.expires"
OWNER = "lakehouse.sandpit.owner"


@dataclass
class CleanupReport:
    """What one run did, and what failed (each with the first line of why)."""

    dropped: list[str] = field(default_factory=list)
    granted: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # approvals not by the data owner
    failures: list[str] = field(default_factory=list)


def approved_reads(sandpit: Sandpit, env: str, data_owners: Mapping[str, str]) -> list[Table]:
    """The tables of ``env`` a sandpit reads with its data owner's approval: ``approval.by``
    is the owner ``data_owners`` names for the table (``<layer>.<schema>.<table>``).

    Example:
        >>> approved_reads(sandpit, "prod", {"silver.crm.customers": "head-of-sales-ops@example.com"})  # doctest: +SKIP
        [('prod_silver', 'crm', 'customers')]
    """
    return [
        read.full_name(env)
        for read in sandpit.reads
        if read.approval is not None and read.approval.by == data_owners.get(read.table)
    ]


def clean_up(
    client: WorkspaceClient,
    env: str,
    sandpits: Iterable[Sandpit],
    today: date,
    data_owners: Mapping[str, str],
) -> CleanupReport:
    """Drop expired sandpits of ``env`` and keep their approved reads in step, through the
    workspace's Unity Catalog API; a read approved by anybody but the table's data owner
    (``data_owners``) is never granted.

    Example:
        >>> clean_up(WorkspaceClient(), "prod", load_sandpits(root), date.today(), owners).dropped  # doctest: +SKIP
        ['prod_sandpit.old_idea']
    """
    from databricks.sdk.service.catalog import PermissionsChange, Privilege

    report = CleanupReport()
    declared = {s.name: s for s in sandpits}
    for schema in client.schemas.list(catalog_name=sandpit_catalog(env)):
        if schema.name == "information_schema" or schema.full_name is None:
            continue
        expires = (schema.properties or {}).get(EXPIRES)
        if not _expired(expires, declared.get(schema.name), today):
            continue
        try:
            client.schemas.delete(schema.full_name, force=True)
            report.dropped.append(schema.full_name)
        except Exception as error:  # one schema's failure never stops the others'
            report.failures.append(f"drop {schema.full_name}: {first_message_line(error)}")
    for sandpit in declared.values():
        expired = sandpit.expired(today)
        report.refused += [
            f"{sandpit.name}: {read.table} is approved by {read.approval.by}, not by its data owner"
            for read in sandpit.reads
            if read.approval is not None and read.approval.by != data_owners.get(read.table)
        ]
        for table in approved_reads(sandpit, env, data_owners):
            full_name = ".".join(table)
            changes = [
                PermissionsChange(principal=principal, remove=[Privilege.SELECT])
                if expired
                else PermissionsChange(principal=principal, add=[Privilege.SELECT])
                for principal in sandpit.owners
            ]
            try:
                client.grants.update(securable_type="table", full_name=full_name, changes=changes)
                (report.revoked if expired else report.granted).append(
                    f"{full_name} {'from' if expired else 'to'} {', '.join(sandpit.owners)}"
                )
            except Exception as error:  # a dropped table must not keep the others granted
                report.failures.append(f"grant {full_name}: {first_message_line(error)}")
    return report


def _expired(expires: str | None, sandpit: Sandpit | None, today: date) -> bool:
    """A schema's expiry: its property's, else its file's; a schema that neither dates has
    nobody answering for it."""
    try:
        if expires is not None:
            return date.fromisoformat(expires) < today
    except ValueError:  # a property edited by hand: the file decides
        pass
    return sandpit is None or sandpit.expired(today)


def main(argv: list[str] | None = None) -> None:
    """The job's entry point: clean up ``--env``'s sandpit catalog against the sandpit files
    under ``--root``; exit 1 at the end when anything failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", required=True, choices=["dev", "test", "prod"])
    parser.add_argument("--root", type=Path, required=True, help="The synced bundle root.")
    args = parser.parse_args(argv)
    from databricks.sdk import WorkspaceClient

    try:
        sandpits = load_sandpits(args.root)
        owners = {name: t.owner.owner for name, t in classified_tables(args.root).items()}
    except ConfigFileError as error:
        # Without the files no approval holds: nothing is granted, expired schemas still go.
        print(f"cannot read the sandpit files or contracts, no read is granted:\n{error}")
        sandpits, owners, broken = [], {}, True
    else:
        broken = False
    report = clean_up(WorkspaceClient(), args.env, sandpits, date.today(), owners)
    for line in report.dropped:
        print(f"dropped {line}")
    for line in report.granted:
        print(f"granted SELECT on {line}")
    for line in report.revoked:
        print(f"revoked SELECT on {line}")
    for line in report.refused:
        print(f"not granted: {line}")
    for line in report.failures:
        print(f"failed: {line}")
    if report.failures or report.refused or broken:
        sys.exit(1)

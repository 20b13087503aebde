"""The platform's daily share job: applies every domain's shares (``shares.py``) of its
environment to the workspace, through databricks-sdk. For each share it creates the recipient
if it does not exist (Databricks-to-Databricks with a sharing identifier, else open sharing:
the activation link is for an admin to hand over, and never printed), (re)creates the share's
views with SQL, makes the share hold exactly those views, and grants the recipient ``SELECT``
on it; once a share has expired, the recipient's ``SELECT`` is revoked.

A table the share may not hold is left out and reported, whatever the file says (the
governance check should have stopped it in review). Every share goes on past another's
failure; the job exits non-zero at the end, listing what failed or was refused.

Example:
    $ lakehouse-shares --env prod --root /Workspace/.../files
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakehouse.contracts.problems import ConfigFileError
from lakehouse.engine.errors import first_message_line
from lakehouse.governance.access import quoted_name
from lakehouse.governance.classified_tables import ClassifiedTable, classified_tables
from lakehouse.governance.shares import DeclaredShare, load_shares, share_plan

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

COMMENT_PREFIX = "lakehouse share: "


@dataclass
class ShareReport:
    """What one run did, per share, and what it refused or failed to do."""

    applied: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def apply_shares(
    client: WorkspaceClient,
    run_sql: Callable[[str], Any],
    shares: Iterable[DeclaredShare],
    tables: dict[str, ClassifiedTable],
    env: str,
    today: date,
) -> ShareReport:
    """Apply ``shares`` of ``env``: recipients, views (``run_sql``), share objects and grants.

    Example:
        >>> apply_shares(WorkspaceClient(), spark.sql, load_shares(root), classified_tables(root), "prod", date.today())  # doctest: +SKIP
    """
    report = ShareReport()
    for declared in shares:
        if env not in declared.share.environments:
            continue
        try:
            _apply(client, run_sql, declared, tables, env, today, report)
        except Exception as error:  # one share's failure never stops the others
            report.failures.append(f"{declared.name}: {first_message_line(error)}")
    return report


def _apply(
    client: WorkspaceClient,
    run_sql: Callable[[str], Any],
    declared: DeclaredShare,
    tables: dict[str, ClassifiedTable],
    env: str,
    today: date,
    report: ShareReport,
) -> None:
    from databricks.sdk.errors import NotFound
    from databricks.sdk.service.sharing import (
        AuthenticationType,
        PermissionsChange,
        SharedDataObject,
        SharedDataObjectDataObjectType,
        SharedDataObjectUpdate,
        SharedDataObjectUpdateAction,
    )

    recipient = declared.share.recipient
    if declared.expired(today):
        changes = [PermissionsChange(principal=recipient.name, remove=["SELECT"])]
        with contextlib.suppress(NotFound):  # never created: nothing to take back
            client.shares.update_permissions(declared.name, changes=changes)
        report.revoked.append(f"{declared.name} from {recipient.name} (expired {declared.share.expires})")  # fmt: skip
        return
    views, refusals = share_plan(declared, tables, env)
    report.refused += [f"{declared.file}:{r.line}: {r.message}" for r in refusals]
    try:
        client.recipients.get(recipient.name)
    except NotFound:
        databricks = recipient.sharing_identifier is not None
        client.recipients.create(
            recipient.name,
            AuthenticationType.DATABRICKS if databricks else AuthenticationType.TOKEN,
            data_recipient_global_metastore_id=recipient.sharing_identifier,
            comment=f"{COMMENT_PREFIX}{recipient.contact}",
        )
    created = []
    for view in views:
        try:
            run_sql(view.create_view())
            created.append(view)
        except Exception as error:  # the share keeps its other views
            report.failures.append(f"{declared.name}: view {quoted_name(view.view)}: {first_message_line(error)}")  # fmt: skip
    try:
        info = client.shares.get(declared.name, include_shared_data=True)
    except NotFound:
        info = client.shares.create(declared.name, comment=f"{COMMENT_PREFIX}{declared.share.purpose}")  # fmt: skip
    held = {o.name for o in info.objects or [] if o.name}
    wanted = {".".join(v.view) for v in created}
    failed = {".".join(v.view) for v in views} - wanted  # kept as they were, not removed
    view_type = SharedDataObjectDataObjectType.VIEW
    add, remove = SharedDataObjectUpdateAction.ADD, SharedDataObjectUpdateAction.REMOVE
    updates = [
        *(SharedDataObjectUpdate(action=add, data_object=SharedDataObject(name=n, data_object_type=view_type)) for n in sorted(wanted - held)),
        *(SharedDataObjectUpdate(action=remove, data_object=SharedDataObject(name=n)) for n in sorted(held - wanted - failed)),
    ]  # fmt: skip
    if updates:
        client.shares.update(declared.name, updates=updates)
    grant = [PermissionsChange(principal=recipient.name, add=["SELECT"])]
    client.shares.update_permissions(declared.name, changes=grant)
    report.applied.append(f"{declared.name} to {recipient.name}: {', '.join(sorted(wanted)) or 'no view'}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """The job's entry point: apply the shares under ``--root`` to ``--env``'s workspace;
    exit 1 at the end when anything failed or was refused."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", required=True, choices=["dev", "test", "prod"])
    parser.add_argument("--root", type=Path, required=True, help="The synced bundle root.")
    args = parser.parse_args(argv)
    try:
        shares, tables = load_shares(args.root), classified_tables(args.root)
    except ConfigFileError as error:
        print(f"cannot read the shares, nothing is shared or changed:\n{error}")
        sys.exit(1)
    from databricks.sdk import WorkspaceClient
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    report = apply_shares(WorkspaceClient(), spark.sql, shares, tables, args.env, date.today())
    for line in report.applied:
        print(f"shared {line}")
    for line in report.revoked:
        print(f"revoked {line}")
    for line in report.refused:
        print(f"refused {line}")
    for line in report.failures:
        print(f"failed: {line}")
    if report.failures or report.refused:
        sys.exit(1)

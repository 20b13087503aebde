"""Sharing with third parties through Delta Sharing, declared per domain:
``domains/<domain>/shares/<name>.yml`` is the share ``<domain>_<name>``::

    recipient:
      name: acme_analytics
      sharing_identifier: azure:westeurope:19a85dee-54bc-43a2-87ab-023d0ec16013  # their metastore
      contact: data-team@acme.example
    purpose: Daily revenue for Acme's market analysis.
    expires: 2027-06-30
    approval: {by: head-of-sales-ops@example.com, when: 2026-12-01, reference: DSA-17}
    tables:
      - table: gold.sales.daily_revenue
        columns: [order_date, currency, revenue]
        partition_filter: currency = 'EUR'

Only data whose classification lets it leave the platform is shared: ``public`` data, and
``general`` data when the data owner's approval is recorded; never confidential or restricted
data, never bronze or a quarantine (raw records), never another domain's tables. Each table is
shared as a view, ``<env>_platform.sharing.<share>__<layer>_<schema>_<table>``, that selects
the shared columns (never a column classified above what the share allows: a masked column is
left out) and rows (``partition_filter``, and a silver table's contract ``rowFilter``: the
recipient is outside the owning domain). Without ``sharing_identifier`` the recipient uses
open sharing (a token its admin hands over; it is never printed).

``share_plan`` decides what a share holds, for the governance rules (``policy_check.py``), the
platform's share job (``share_job.py``) and ``lakehouse share preview``, which runs each
view's query over the local catalog: exactly the rows and columns the recipient would receive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import sqlglot
from pydantic import BaseModel, Field, ValidationError, field_validator

from lakehouse.contracts.model import Classification, FrozenModel
from lakehouse.contracts.problems import ConfigFileError, Problem
from lakehouse.contracts.yaml_source import YamlSource, validation_problems
from lakehouse.governance.access import Table, quoted_name
from lakehouse.governance.approvals import Approval, Email, LayerTable
from lakehouse.governance.classified_tables import ClassifiedTable
from lakehouse.platform.domains import find_domains
from lakehouse.sql_quoting import quote_identifier

SHARES = "shares"
SHARING_SCHEMA = "sharing"  # <env>_platform.sharing: the views the shares hold
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}\Z")
_SHARING_IDENTIFIER = re.compile(r"^[a-z]+:[a-z0-9-]+:[0-9a-f-]{36}\Z")


class ShareError(ConfigFileError):
    """A share file that cannot be used."""


class Recipient(FrozenModel):
    """Who receives the share."""

    name: str
    # <cloud>:<region>:<metastore id> of a Databricks recipient; without it, open sharing.
    sharing_identifier: str | None = None
    contact: Email

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("expected a lower-case identifier, such as acme_analytics")
        return value

    @field_validator("sharing_identifier")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is not None and not _SHARING_IDENTIFIER.match(value):
            raise ValueError(
                "expected the recipient metastore's sharing identifier, <cloud>:<region>:<uuid>"
            )
        return value


class SharedTable(FrozenModel):
    """A table of the share: its columns (default: every one the share may hold) and the rows
    ``partition_filter`` keeps (default: all)."""

    table: LayerTable
    columns: tuple[str, ...] | None = Field(default=None, min_length=1)
    partition_filter: str | None = None

    @field_validator("partition_filter")
    @classmethod
    def _condition(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            condition = sqlglot.parse_one(value, read="databricks")
        except sqlglot.errors.ParseError:
            condition = None
        if (
            condition is None
            or ";" in value
            or isinstance(condition, sqlglot.exp.Query | sqlglot.exp.Command)
            or condition.find(sqlglot.exp.Query) is not None
        ):
            raise ValueError("expected a SQL condition over the table's columns, such as currency = 'EUR'")  # fmt: skip
        return value


class Share(FrozenModel):
    """One share file."""

    recipient: Recipient
    purpose: str
    expires: date
    environments: tuple[Literal["dev", "test", "prod"], ...] = ("prod",)
    approval: Approval | None = None
    tables: tuple[SharedTable, ...] = Field(min_length=1)


@dataclass(frozen=True)
class DeclaredShare:
    """A share, the domain that declares it, and its file."""

    name: str  # <domain>_<file name>
    domain: str
    share: Share
    file: Path
    source: YamlSource

    def line(self, *path: str | int) -> int:
        return self.source.line_of(path)

    @property
    def allowed(self) -> Classification:
        """The highest classification the share may hold."""
        return Classification.GENERAL if self.share.approval else Classification.PUBLIC

    def expired(self, today: date) -> bool:
        return self.share.expires < today


@dataclass(frozen=True)
class Refusal:
    """Something a share may not hold, and where its file says it."""

    line: int
    message: str


@dataclass(frozen=True)
class SharedView:
    """One table of a share as the recipient receives it: a view over it."""

    source: Table
    view: Table
    columns: tuple[str, ...] | None  # None: every column (a gold table's are not declared)
    condition: str | None  # the rows shared

    def query(self) -> str:
        """The view's query, every identifier quoted.

        Example:
            >>> SharedView(("prod_gold", "sales", "t"), ("prod_platform", "sharing", "s__t"), ("a",), "a > 1").query()
            'SELECT `a` FROM `prod_gold`.`sales`.`t` WHERE a > 1'
        """
        columns = ", ".join(map(quote_identifier, self.columns)) if self.columns else "*"
        where = f" WHERE {self.condition}" if self.condition else ""
        return f"SELECT {columns} FROM {quoted_name(self.source)}{where}"

    def create_view(self) -> str:
        return f"CREATE OR REPLACE VIEW {quoted_name(self.view)} AS {self.query()}"


def share_plan(
    declared: DeclaredShare, tables: dict[str, ClassifiedTable], env: str
) -> tuple[list[SharedView], list[Refusal]]:
    """The views ``declared`` holds in ``env``, and what it may not hold (left out).

    Example:
        >>> views, refused = share_plan(load_shares(root)[0], classified_tables(root), "prod")  # doctest: +SKIP
    """
    views: list[SharedView] = []
    refusals: list[Refusal] = []
    allowed = declared.allowed
    for index, shared in enumerate(declared.share.tables):
        line = declared.line("tables", index, "table")
        found = tables.get(shared.table)
        layer, schema, name = shared.table.split(".")
        refused = _table_refusal(declared, shared, found, layer, name)
        if refused is not None:
            refusals.append(Refusal(line, refused))
            continue
        assert found is not None
        columns: tuple[str, ...] | None = shared.columns
        if found.contract is not None:  # its columns and their classifications are known
            listed = shared.columns or tuple(found.columns)
            for column in listed:
                level = found.columns.get(column)
                where = declared.line("tables", index, "columns") if shared.columns else line
                if level is None:
                    refusals.append(Refusal(where, f"{shared.table} has no column '{column}'"))
                elif level.rank > allowed.rank and shared.columns:
                    refusals.append(Refusal(where, f"{shared.table}.{column} is {level.value} (masked inside the platform) and may not be shared"))  # fmt: skip
            columns = tuple(c for c in listed if found.columns.get(c, Classification.RESTRICTED).rank <= allowed.rank)  # fmt: skip
            if not columns:
                refusals.append(Refusal(line, f"{shared.table} has no column the share may hold"))
                continue
        # A recipient is outside the owning domain: a silver table's row filter holds for it too.
        row_filter = found.contract.row_filter if found.contract and layer == "silver" else None
        conditions = [f"({c})" for c in (row_filter, shared.partition_filter) if c]
        source = (f"{env}_{layer}", schema, name)
        view = (f"{env}_platform", SHARING_SCHEMA, f"{declared.name}__{layer}_{schema}_{name}")
        views.append(SharedView(source, view, columns, " AND ".join(conditions) or None))
    return views, refusals


def _table_refusal(
    declared: DeclaredShare,
    shared: SharedTable,
    found: ClassifiedTable | None,
    layer: str,
    name: str,
) -> str | None:
    if found is None:
        return f"{shared.table}: no contract or pipeline declares it"
    if found.owner.name != declared.domain:
        return f"{shared.table} is {found.owner.name}'s: {declared.domain} shares only its own data"  # fmt: skip
    if layer == "bronze" or name.endswith("_quarantine"):
        return f"{shared.table} keeps records as landed: share silver or gold"
    level = found.classification
    if level is None:
        return f"{shared.table} declares no classification in its pipeline (table_properties lakehouse.classification): it cannot be shared"  # fmt: skip
    if level.rank > declared.allowed.rank:
        if level is Classification.GENERAL:
            return f"{shared.table} is general: record the data owner's approval ({found.owner.owner}) to share it"  # fmt: skip
        return f"{shared.table} is {level.value}: it may not leave the platform"
    if declared.share.approval is not None and declared.share.approval.by != found.owner.owner:
        return f"{shared.table}: the approval is by {declared.share.approval.by}, not by {found.owner.name}'s data owner ({found.owner.owner})"  # fmt: skip
    return None


def share_files(root: Path) -> list[tuple[str, Path]]:
    """Every ``domains/<domain>/shares/*.yml`` under the bundle root, with its domain."""
    return [
        (domain.name, file)
        for domain in find_domains(root / "domains")
        for file in sorted((domain.folder / SHARES).glob("*.yml"))
    ]


def load_share(domain: str, file: Path) -> DeclaredShare:
    """The share in ``file`` of ``domain``; a ``ShareError`` lists every problem with its
    line and field.

    Example:
        >>> load_share("sales", Path("domains/sales/shares/partner_revenue.yml")).name  # doctest: +SKIP
        'sales_partner_revenue'
    """
    source = YamlSource.read(file, ShareError)
    if not _NAME.match(file.stem):
        raise ShareError([Problem(file, 1, "", "expected a file named after the share, a lower-case identifier such as partner_revenue.yml")])  # fmt: skip
    if not isinstance(source.data, dict):
        raise ShareError([Problem(file, 1, "", "expected a mapping (a share)")])
    try:
        share = Share.model_validate(source.data)
    except ValidationError as error:
        raise ShareError(validation_problems(error, file, source, _fields_at)) from None
    return DeclaredShare(f"{domain}_{file.stem}", domain, share, file, source)


def _fields_at(path: tuple[Any, ...]) -> set[str]:
    models: dict[str, type[BaseModel]] = {"recipient": Recipient, "tables": SharedTable, "approval": Approval}  # fmt: skip
    return set(models.get(str(path[0]), Share).model_fields) if len(path) > 1 else set(Share.model_fields)  # fmt: skip


def load_shares(root: Path) -> list[DeclaredShare]:
    """Every share of the bundle at ``root``; a ``ShareError`` lists the problems of every
    file (and a share name or recipient declared twice with different identities)."""
    problems: list[Problem] = []
    shares = []
    for domain, file in share_files(root):
        try:
            shares.append(load_share(domain, file))
        except ShareError as error:
            problems += error.problems
    recipients: dict[str, DeclaredShare] = {}
    for declared in shares:
        first = recipients.setdefault(declared.share.recipient.name, declared)
        if first.share.recipient.sharing_identifier != declared.share.recipient.sharing_identifier:  # fmt: skip
            problems.append(Problem(declared.file, declared.line("recipient", "sharing_identifier"), "recipient.sharing_identifier", f"recipient '{declared.share.recipient.name}' has another sharing identifier in {first.file}"))  # fmt: skip
    if problems:
        raise ShareError(problems)
    return shares


def find_share(shares: list[DeclaredShare], name: str) -> DeclaredShare:
    """The share called ``name`` (``<domain>_<file name>``, or the file name when only one
    domain has it); a ``KeyError`` naming the shares there are."""
    matches = [s for s in shares if name in (s.name, s.file.stem)]
    if len(matches) != 1:
        known = ", ".join(s.name for s in shares) or "none"
        why = "names several shares" if matches else "is no share"
        raise KeyError(f"'{name}' {why}; shares: {known}")
    return matches[0]

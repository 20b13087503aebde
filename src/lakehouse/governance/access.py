"""The access policy: each domain has reader, engineer and admin roles (account groups in its
registry entry); data classified above ``general`` is readable only by the owning domain's
roles; ``general`` and ``public`` data is readable platform-wide.

Unity Catalog grants are inherited downwards, so the policy is applied in two parts:

- catalogs, schemas and volumes (bundle resources, ``schema_grants`` and friends): everybody
  may use the catalogs and schemas, the owning domain's roles read, write or manage
  everything in their schemas, the platform's engineers write the landing volumes (the
  copier's side) and hold nothing on domain data;
- tables (``table_grant_statements``, run by the platform's grants job): ``SELECT`` for
  everybody on each table whose ``lakehouse.classification`` property is general or public,
  revoked from every other table, so that raising a classification takes the access away.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from lakehouse.contracts.model import Classification
from lakehouse.engine.observability.masking import CLASSIFICATION as CLASSIFICATION_PROPERTY
from lakehouse.engine.observability.masking import COLUMN_CLASSIFICATIONS as COLUMNS_PROPERTY
from lakehouse.platform.registry import DomainSpec
from lakehouse.sql_quoting import quote_identifier

EVERYBODY = "account users"
READ = ["USE_SCHEMA", "SELECT", "EXECUTE", "READ_VOLUME"]
WRITE = [*READ, "MODIFY", "REFRESH", "WRITE_VOLUME", "CREATE_TABLE", "CREATE_MATERIALIZED_VIEW",
         "CREATE_FUNCTION", "CREATE_VOLUME"]  # fmt: skip


def catalog_grants(platform: DomainSpec) -> list[dict[str, object]]:
    """Every layer's catalog: used by everybody, managed by the platform's admins, who read no
    data through it (``ALL_PRIVILEGES`` on a catalog would be ``SELECT`` on every domain's
    tables): ``MANAGE`` lets them administer it and its grants, each act audited."""
    return [
        {"principal": EVERYBODY, "privileges": ["USE_CATALOG"]},
        {"principal": platform.groups.admins, "privileges": ["USE_CATALOG", "BROWSE", "MANAGE"]},
    ]


def schema_grants(owner: DomainSpec) -> list[dict[str, object]]:
    """A schema owned by ``owner``: its readers read, its engineers write, its admins manage;
    everybody may use the schema, which gives no table by itself. The platform's engineers get
    nothing more than everybody: pipelines and jobs run as the domain's service principal, and
    an operator who must read or change domain data is elevated just in time
    (docs/governance.md).

    Example:
        >>> schema_grants(sales)[0]  # doctest: +SKIP
        {'principal': 'account users', 'privileges': ['USE_SCHEMA']}
    """
    return [
        {"principal": EVERYBODY, "privileges": ["USE_SCHEMA"]},
        {"principal": owner.groups.readers, "privileges": READ},
        {"principal": owner.groups.engineers, "privileges": WRITE},
        {"principal": owner.groups.admins, "privileges": ["ALL_PRIVILEGES"]},
    ]


def landing_volume_grants(owner: DomainSpec, platform: DomainSpec) -> list[dict[str, object]]:
    """A landing volume: the source system's copier (the platform's engineers) writes, the
    owning domain's engineers read what landed."""
    return [
        {"principal": owner.groups.engineers, "privileges": ["READ_VOLUME"]},
        {"principal": platform.groups.engineers, "privileges": ["READ_VOLUME", "WRITE_VOLUME"]},
    ]


def registered_model_grants(owner: DomainSpec) -> list[dict[str, object]]:
    """A domain's registered model (a Unity Catalog function): its readers and engineers load
    and score it, its engineers tag its versions, its admins manage it (the deploying principal
    owns it and registers the versions its training job logs).

    Example:
        >>> registered_model_grants(sales)[0]  # doctest: +SKIP
        {'principal': 'sales-data-readers', 'privileges': ['EXECUTE']}
    """
    return [
        {"principal": owner.groups.readers, "privileges": ["EXECUTE"]},
        {"principal": owner.groups.engineers, "privileges": ["EXECUTE", "APPLY_TAG"]},
        {"principal": owner.groups.admins, "privileges": ["ALL_PRIVILEGES"]},
    ]


def shared_schema_grants(
    platform: DomainSpec, domains: Iterable[DomainSpec], env: str
) -> list[dict[str, object]]:
    """A schema of the platform's catalog that every domain's jobs write their own rows to (the
    scoring control table; the monitoring results): everybody reads it; each domain's service
    principal (in dev also its engineers, whose own deployments run as themselves) creates
    tables and writes; the platform's admins manage.

    Example:
        >>> shared_schema_grants(platform, [sales], "prod")[0]  # doctest: +SKIP
        {'principal': 'account users', 'privileges': ['USE_SCHEMA', 'SELECT']}
    """
    writers = [
        principal
        for spec in domains
        for principal in (getattr(spec.service_principals, env), spec.groups.engineers if env == "dev" else None)
        if principal is not None
    ]  # fmt: skip
    return [
        {"principal": EVERYBODY, "privileges": ["USE_SCHEMA", "SELECT"]},
        *({"principal": p, "privileges": ["MODIFY", "CREATE_TABLE"]} for p in writers),
        {"principal": platform.groups.admins, "privileges": ["ALL_PRIVILEGES"]},
    ]


# A table's three-level name, kept in parts: a part may hold a dot, a backtick or a hyphen.
Table = tuple[str, str, str]


def quoted_name(table: Table) -> str:
    """A table's name for SQL, every part quoted.

    Example:
        >>> quoted_name(("dev_gold", "sales-eu", "daily_revenue"))
        '`dev_gold`.`sales-eu`.`daily_revenue`'
    """
    return ".".join(map(quote_identifier, table))


@dataclass(frozen=True)
class TableAccess:
    """A table, and whether everybody may read it."""

    table: Table
    classification: Classification | None  # None: the table does not say

    @property
    def readable_by_everybody(self) -> bool:
        return self.classification is not None and self.classification.rank <= Classification.GENERAL.rank  # fmt: skip


def table_access(
    tables: Mapping[Table, Mapping[str, str]],
    masked: Mapping[Table, Collection[str]] | None = None,
) -> list[TableAccess]:
    """Each table's access from its properties: the highest of ``lakehouse.classification``
    and its columns' (``lakehouse.classification.columns``), since a grant on a table reads
    every column, but for the columns ``masked`` says a mask is set on (a mask shows their
    values only to whom their classification allows). A table without a known classification
    is treated as above general.

    Example:
        >>> table_access({("dev_gold", "hr", "headcount"): {"lakehouse.classification": "general"}})
        [TableAccess(table=('dev_gold', 'hr', 'headcount'), classification=<Classification.GENERAL: 'general'>)]
    """
    masked = masked or {}
    return [
        TableAccess(name, _highest(properties, set(masked.get(name, ()))))
        for name, properties in sorted(tables.items())
    ]


def _highest(properties: Mapping[str, str], masked: set[str]) -> Classification | None:
    known = {c.value: c for c in Classification}
    table = known.get(properties.get(CLASSIFICATION_PROPERTY, ""))
    try:
        columns = json.loads(properties.get(COLUMNS_PROPERTY, "{}"))
    except json.JSONDecodeError:
        return None
    found = [
        table,
        *(known.get(value) for column, value in columns.items() if column not in masked),
    ]
    if None in found:
        return None
    return max((c for c in found if c is not None), key=lambda c: c.rank)


def table_grant_statements(access: Iterable[TableAccess]) -> list[str]:
    """The SQL that makes the tables' grants follow their classification, every identifier
    quoted and escaped.

    Example:
        >>> table_grant_statements([TableAccess(("dev_silver", "crm", "customers"), Classification.CONFIDENTIAL)])
        ['REVOKE SELECT ON TABLE `dev_silver`.`crm`.`customers` FROM `account users`']
    """
    everybody = quote_identifier(EVERYBODY)
    return [
        f"GRANT SELECT ON TABLE {quoted_name(a.table)} TO {everybody}"
        if a.readable_by_everybody
        else f"REVOKE SELECT ON TABLE {quoted_name(a.table)} FROM {everybody}"
        for a in access
    ]

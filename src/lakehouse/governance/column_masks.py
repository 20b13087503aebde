"""Column masks from the contracts: in bronze, silver and silver's quarantine, every column
classified above its table gets a Unity Catalog column mask, so that the rest of the table can be read as widely as
the table's own classification allows.

A mask is a SQL function in the table's schema, one per classification and type::

    CREATE OR REPLACE FUNCTION `dev_silver`.`crm`.`lakehouse_mask_confidential_string`(value STRING)
    RETURNS STRING
    RETURN CASE WHEN is_account_group_member('sales-data-readers') OR ... THEN value
                ELSE '<masked: confidential>' END

Who sees a masked value: for ``confidential`` the owning domain's readers, engineers and
admins; for ``restricted`` only its engineers (whose service principals run the pipelines)
and admins. Everybody else sees ``<masked: LEVEL>`` in text columns and NULL in others.
Silver's quarantine table is masked as silver is. Bronze and the quarantine keep records as
landed (text, but for Parquet files), and their ``_rescued_data`` may hold any column's value:
it is masked at the contract's highest column level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.contracts.model import Classification, DataContract
from lakehouse.governance.access import Table, quoted_name
from lakehouse.platform.domains import find_domains
from lakehouse.platform.registry import DomainSpec, load_registry
from lakehouse.sql_quoting import quote_identifier, quote_string

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

RESCUED_DATA = "_rescued_data"
MASKED_LEVELS = (Classification.CONFIDENTIAL, Classification.RESTRICTED)
FUNCTION_PREFIX = "lakehouse_mask"


@dataclass(frozen=True)
class ColumnMask:
    """One column's mask: the function (in the table's schema) and the groups that see the
    value.

    Example:
        >>> mask.function_name, mask.visible_to  # doctest: +SKIP
        ('lakehouse_mask_confidential_string', ('sales-data-readers', ...))
    """

    table: Table
    column: str
    sql_type: str
    level: Classification
    visible_to: tuple[str, ...]

    @property
    def function_name(self) -> str:
        return f"{FUNCTION_PREFIX}_{self.level.value}_{_type_key(self.sql_type)}"

    @property
    def function(self) -> Table:
        return (self.table[0], self.table[1], self.function_name)

    def body(self, value: str = "value") -> str:
        """The function's expression over ``value``.

        Example:
            >>> ColumnMask(("c", "s", "t"), "email", "STRING", Classification.CONFIDENTIAL, ("readers",)).body()
            "CASE WHEN is_account_group_member('readers') THEN value ELSE '<masked: confidential>' END"
        """
        members = membership_sql(self.visible_to)
        hidden = (
            quote_string(f"<masked: {self.level.value}>") if _is_text(self.sql_type) else "NULL"
        )
        return f"CASE WHEN {members} THEN {value} ELSE {hidden} END"

    def create_function(self, *, temporary: bool = False) -> str:
        """The ``CREATE OR REPLACE FUNCTION`` statement, every identifier quoted (a
        ``temporary`` one, named without its schema, for Spark to evaluate locally)."""
        kind, name = ("TEMPORARY FUNCTION", quote_identifier(self.function_name)) if temporary else ("FUNCTION", quoted_name(self.function))  # fmt: skip
        return (
            f"CREATE OR REPLACE {kind} {name}(value {self.sql_type}) "
            f"RETURNS {self.sql_type} RETURN {self.body()}"
        )

    def set_mask(self) -> str:
        """The ``ALTER TABLE ... SET MASK`` statement."""
        return (
            f"ALTER TABLE {quoted_name(self.table)} ALTER COLUMN "
            f"{quote_identifier(self.column)} SET MASK {quoted_name(self.function)}"
        )


def membership_sql(groups: Iterable[str]) -> str:
    """True for a member of any of ``groups``, in SQL.

    Example:
        >>> membership_sql(["readers", "engineers"])
        "is_account_group_member('readers') OR is_account_group_member('engineers')"
    """
    return " OR ".join(f"is_account_group_member({quote_string(g)})" for g in groups)


def answer_membership(spark: SparkSession, groups: Iterable[str]) -> None:
    """Make Spark's ``is_account_group_member`` (Unity Catalog's, absent locally) answer as
    for a member of ``groups``, so generated masks and filters can be evaluated here."""
    member_of = frozenset(groups)
    spark.udf.register("is_account_group_member", lambda group: group in member_of, "boolean")


def visible_to(level: Classification, owner: DomainSpec) -> tuple[str, ...]:
    """The owning domain's groups that see values classified ``level``.

    Example:
        >>> visible_to(Classification.RESTRICTED, hr)  # doctest: +SKIP
        ('hr-data-engineers', 'hr-data-admins')
    """
    groups = owner.groups
    if level is Classification.RESTRICTED:
        return (groups.engineers, groups.admins)
    return (groups.readers, groups.engineers, groups.admins)


def contract_masks(contract: DataContract, owner: DomainSpec, env: str) -> list[ColumnMask]:
    """The masks of the contract's tables in ``env`` (bronze, silver and silver's quarantine):
    each column classified confidential or restricted above the contract's own level, and
    ``_rescued_data`` where it is kept, at the highest such level.

    Example:
        >>> [m.column for m in contract_masks(cost_centres, finance, "dev")]  # doctest: +SKIP
        ['owner_email', '_rescued_data', 'owner_email', 'owner_email', '_rescued_data']
    """
    above = [
        c
        for c in contract.columns
        if c.classification in MASKED_LEVELS
        and c.classification.rank > contract.classification.rank
    ]
    if not above:
        return []
    highest = max((c.classification for c in above), key=lambda c: c.rank)
    # Bronze and the quarantine keep records as landed: text, but for typed Parquet files.
    landed = contract.file_format == "parquet"
    tables = [
        (("bronze", contract.dataset), landed, True),
        (("silver", contract.dataset), True, False),
        (("silver", f"{contract.dataset}_quarantine"), landed, True),
    ]
    masks = []
    for (layer, name), typed, rescued in tables:
        table = (f"{env}_{layer}", contract.source_system, name)
        for column in above:
            sql_type = column.spark_type.upper() if typed else "STRING"
            level = column.classification
            masks.append(ColumnMask(table, column.name, sql_type, level, visible_to(level, owner)))
        if rescued:
            masks.append(ColumnMask(table, RESCUED_DATA, "STRING", highest, visible_to(highest, owner)))  # fmt: skip
    return masks


def owned_contracts(root: Path) -> list[tuple[DataContract, DomainSpec]]:
    """Every contract of the bundle at ``root`` with its owning domain's registry entry; a
    broken contract or registry entry raises its ``ConfigFileError``.

    Example:
        >>> [(c.id, spec.name) for c, spec in owned_contracts(Path("."))][:1]  # doctest: +SKIP
        [('finance.erp.cost_centres', 'finance')]
    """
    _, specs = load_registry(root)
    owners = {spec.name: spec for spec in specs}
    return [
        (contract, owners[domain.name])
        for domain in find_domains(root / "domains")
        if domain.name in owners
        for contract in domain.contracts
    ]


def domain_masks(root: Path, env: str) -> list[ColumnMask]:
    """The masks of every contract of the bundle at ``root`` in ``env``.

    Example:
        >>> mask_statements(domain_masks(Path("."), "prod"))  # doctest: +SKIP
    """
    return [m for c, owner in owned_contracts(root) for m in contract_masks(c, owner, env)]


def mask_statements(masks: Iterable[ColumnMask]) -> list[str]:
    """Each function once, then each column's ``SET MASK``.

    Example:
        >>> mask_statements(contract_masks(customers, sales, "prod"))[0]  # doctest: +SKIP
        'CREATE OR REPLACE FUNCTION `prod_bronze`.`crm`.`lakehouse_mask_confidential_string`(value STRING) ...'
    """
    masks = list(masks)
    functions = {m.function: m.create_function() for m in masks}
    return [*functions.values(), *(m.set_mask() for m in masks)]


def _is_text(sql_type: str) -> bool:
    return sql_type.upper() == "STRING" or sql_type.upper().startswith(("VARCHAR", "CHAR"))


def _type_key(sql_type: str) -> str:
    """A type as part of a function name: ``DECIMAL(10,2)`` as ``decimal_10_2``."""
    return "_".join(part for part in "".join(ch if ch.isalnum() else " " for ch in sql_type.lower()).split())  # fmt: skip


def preview(spark: SparkSession, frame: DataFrame, masks: Iterable[ColumnMask], groups: Iterable[str]) -> DataFrame:  # fmt: skip
    """``frame`` as a member of ``groups`` would read it with ``masks`` set: the generated
    functions evaluated by Spark, ``is_account_group_member`` answering from ``groups``.

    Example:
        >>> preview(spark, customers, contract_masks(contract, sales, "dev"), ["finance-data-readers"]).show()  # doctest: +SKIP
    """
    answer_membership(spark, groups)
    by_column = {m.column: m for m in masks}
    columns = []
    for name in frame.columns:
        mask = by_column.get(name)
        if mask is None:
            columns.append(quote_identifier(name))
            continue
        spark.sql(mask.create_function(temporary=True))
        columns.append(f"{quote_identifier(mask.function_name)}({quote_identifier(name)}) AS {quote_identifier(name)}")  # fmt: skip
    return frame.selectExpr(*columns)

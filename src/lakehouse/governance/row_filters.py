"""Row filters from the contracts: a contract's ``rowFilter`` (a SQL condition over the
record's columns) limits what readers outside the owning domain see of its silver table to
the rows where it holds; the owning domain's groups see every row.

Bronze and silver's quarantine keep records as landed (text), where the typed condition would
mean something else: when a contract declares a row filter, they show rows to the owning
domain's groups only.

    CREATE OR REPLACE FUNCTION `prod_silver`.`erp`.`lakehouse_row_filter_cost_centres`(
        `cost_centre` STRING, `region` STRING, ...) RETURNS BOOLEAN
    RETURN is_account_group_member('finance-data-readers') OR ... OR (region = 'EU')
    ALTER TABLE `prod_silver`.`erp`.`cost_centres`
        SET ROW FILTER `prod_silver`.`erp`.`lakehouse_row_filter_cost_centres` ON (`cost_centre`, `region`, ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.contracts.model import Classification, DataContract
from lakehouse.governance.access import Table, quoted_name
from lakehouse.governance.column_masks import (
    answer_membership,
    membership_sql,
    owned_contracts,
    visible_to,
)
from lakehouse.platform.registry import DomainSpec
from lakehouse.sql_quoting import quote_identifier

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FUNCTION_PREFIX = "lakehouse_row_filter"


@dataclass(frozen=True)
class RowFilter:
    """One table's row filter: the columns it reads, the condition others' rows must meet
    (None: others see no row), and the groups that see every row."""

    table: Table
    columns: tuple[tuple[str, str], ...]  # (name, SQL type)
    condition: str | None
    visible_to: tuple[str, ...]

    @property
    def function(self) -> Table:
        return (self.table[0], self.table[1], f"{FUNCTION_PREFIX}_{self.table[2]}")

    def body(self) -> str:
        """The function's expression over the row's columns.

        Example:
            >>> RowFilter(("c", "s", "t"), (("region", "STRING"),), "region = 'EU'", ("owners",)).body()
            "is_account_group_member('owners') OR (region = 'EU')"
        """
        members = membership_sql(self.visible_to)
        return members if self.condition is None else f"{members} OR ({self.condition})"

    def create_function(self) -> str:
        parameters = ", ".join(f"{quote_identifier(n)} {t}" for n, t in self.columns)
        return (
            f"CREATE OR REPLACE FUNCTION {quoted_name(self.function)}({parameters}) "
            f"RETURNS BOOLEAN RETURN {self.body()}"
        )

    def set_filter(self) -> str:
        on = ", ".join(quote_identifier(n) for n, _ in self.columns)
        return f"ALTER TABLE {quoted_name(self.table)} SET ROW FILTER {quoted_name(self.function)} ON ({on})"  # fmt: skip


def contract_row_filters(contract: DataContract, owner: DomainSpec, env: str) -> list[RowFilter]:
    """The row filters of the contract's tables in ``env``: silver's from its ``rowFilter``,
    bronze's and the quarantine's showing rows to the owning domain only; none without one.

    Example:
        >>> [f.table[2] for f in contract_row_filters(cost_centres, finance, "prod")]  # doctest: +SKIP
        ['cost_centres', 'cost_centres', 'cost_centres_quarantine']
    """
    if contract.row_filter is None:
        return []
    owners = visible_to(Classification.CONFIDENTIAL, owner)
    typed = tuple((c.name, c.spark_type.upper()) for c in contract.columns)
    landed = typed if contract.file_format == "parquet" else tuple((n, "STRING") for n, _ in typed)
    ss, name = contract.source_system, contract.dataset
    return [
        RowFilter((f"{env}_bronze", ss, name), landed[:1], None, owners),
        RowFilter((f"{env}_silver", ss, name), typed, contract.row_filter, owners),
        RowFilter((f"{env}_silver", ss, f"{name}_quarantine"), landed[:1], None, owners),
    ]


def domain_row_filters(root: Path, env: str) -> list[RowFilter]:
    """The row filters of every contract of the bundle at ``root`` in ``env``.

    Example:
        >>> [f.set_filter() for f in domain_row_filters(Path("."), "prod")]  # doctest: +SKIP
    """
    return [f for c, owner in owned_contracts(root) for f in contract_row_filters(c, owner, env)]


def preview_rows(spark: SparkSession, frame: DataFrame, row_filter: RowFilter, groups: list[str]) -> DataFrame:  # fmt: skip
    """The rows of ``frame`` a member of ``groups`` reads with ``row_filter`` set, the
    condition evaluated by Spark.

    Example:
        >>> preview_rows(spark, silver, silver_filter, ["sales-data-readers"]).count()  # doctest: +SKIP
    """
    answer_membership(spark, groups)
    return frame.where(row_filter.body())

"""A scoring run over the storage folder, as the scheduled scoring job runs on Databricks:
the control table refreshed from the domains' model files, then each enabled row scored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.platform.domains import DOMAINS
from lakehouse.scoring.batch_scoring import RowResult, score_control_table
from lakehouse.scoring.model_store import use_model_store
from lakehouse.sql_quoting import quote_identifier

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


_ANY = ("main", "default")  # control rows name tables in full: no defaults apply


def local_identifiers(storage: Path) -> Callable[[str], str]:
    """How Spark reaches a catalog table under ``storage``: ``delta.`<its folder>```.

    Example:
        >>> local_identifiers(Path("/lh"))("dev_gold.sales.customer_360")
        'delta.`/lh/catalog/dev_gold/sales/customer_360`'
    """
    catalog = LocalCatalog(storage)

    def identifier(name: str) -> str:
        return "delta." + quote_identifier(str(catalog.table_path(TableName.parse(name, *_ANY))))

    return identifier


def run_scoring(
    spark: SparkSession,
    storage: Path,
    env: str = "dev",
    *,
    model: str | None = None,
    domains_root: Path = DOMAINS,
) -> list[RowResult]:
    """Refresh ``<env>_platform.scoring.control`` from the model files, then score each enabled
    row (only ``model``'s, by file name or registered name, when given).

    Example:
        >>> [r.status for r in run_scoring(spark, Path(".lakehouse"))]  # doctest: +SKIP
        ['scored']
    """
    use_model_store(storage)
    return score_control_table(
        spark, env, local_identifiers(storage), model=model, domains_root=domains_root
    )

"""A scoring run over the storage folder, as the scheduled scoring job runs on Databricks:
the control table refreshed from the domains' model files, then each enabled row scored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.platform.domains import DOMAINS, find_domains
from lakehouse.scoring.batch_scoring import RowResult, score_rows
from lakehouse.scoring.control_table import (
    CONTROL_TABLE,
    ControlRow,
    control_rows,
    control_table_frame,
)
from lakehouse.scoring.model_store import use_model_store
from lakehouse.sql_quoting import quote_identifier

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


_ANY = ("main", "default")  # control rows name tables in full: no defaults apply


class UnknownModel(LookupError):
    """``--model`` names no model file."""


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


def selected_rows(
    env: str, model: str | None, domains_root: Path = DOMAINS
) -> tuple[list[ControlRow], list[ControlRow]]:
    """Every control row for ``env``, and those ``model`` selects (by file name or registered
    name; all when None). A bad model file is a ``ScoringError``, an unknown ``model`` an
    ``UnknownModel`` naming the known ones.

    Example:
        >>> every, chosen = selected_rows("dev", "customer_churn")  # doctest: +SKIP
    """
    every_row = control_rows(find_domains(domains_root), env)
    rows = [r for r in every_row if model in (None, r.name, r.model)]
    if not rows and model is not None:
        known = ", ".join(r.name for r in every_row) or "none"
        raise UnknownModel(f"no model file named {model!r} (there are: {known})")
    return every_row, rows


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
    every_row, rows = selected_rows(env, model, domains_root)
    use_model_store(storage)
    control_table = LocalCatalog(storage).table_path(
        TableName.parse(CONTROL_TABLE.format(env=env), *_ANY)
    )
    control_table_frame(spark, every_row).write.format("delta").mode("overwrite").option(
        "overwriteSchema", "true"
    ).save(str(control_table))
    return score_rows(spark, rows, local_identifiers(storage))

"""A lakehouse on local disk for tests: seed tables, run a domain's pipelines, read the result."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from lakehouse.domain_run import DomainRun, run_domain, run_spec
from lakehouse.engine import UpdateResult, sql
from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.catalog import LocalCatalog
from lakehouse.governance.access import quoted_name
from lakehouse.platform.domains import Domain
from lakehouse.platform.pipelines import domain_pipelines
from lakehouse.sample_data import land_domain
from lakehouse.testing.domain_batches import DomainBatches


class LocalLakehouse:
    """The tables under ``storage``, as the local engine keeps them (one Delta table per
    ``catalog.schema.table``), and the Spark session that reads and writes them. Files land
    in ``storage / "landing"``.

    Example:
        >>> lakehouse = LocalLakehouse(Path(".lakehouse"), spark)  # doctest: +SKIP
        >>> lakehouse.table("dev_gold.sales.daily_revenue").count()  # doctest: +SKIP
        2
    """

    def __init__(self, storage: Path, spark: SparkSession, env: str = "dev") -> None:
        self.storage = storage
        self.landing = storage / "landing"
        self.spark = spark
        self.env = env

    def seed(self, name: str, rows: Sequence[tuple], schema: str) -> DataFrame:
        """Write ``rows`` as the whole of table ``name``, as an upstream pipeline would have
        left it: a gold test starts from silver tables written by hand.

        Example:
            >>> lakehouse.seed("dev_silver.crm.orders", [("A", 10)], "id STRING, amount INT")  # doctest: +SKIP
        """
        frame = self.spark.createDataFrame(list(rows), schema)
        path = LocalCatalog(self.storage).table_path(self._name(name))
        frame.write.format("delta").mode("overwrite").save(str(path))
        return frame

    def table(self, name: str) -> DataFrame:
        """Table or view ``name`` (``catalog.schema.table``) as a DataFrame.

        Example:
            >>> lakehouse.table("dev_gold.sales.daily_revenue").count()  # doctest: +SKIP
            2
        """
        table = self._name(name)
        return self.sql(f"SELECT * FROM {quoted_name((table.catalog, table.schema, table.table))}")

    def sql(self, query: str) -> DataFrame:
        """Spark SQL over the lakehouse's tables, named ``catalog.schema.table``.

        Example:
            >>> lakehouse.sql("SELECT count(*) FROM dev_gold.sales.daily_revenue").first()[0]  # doctest: +SKIP
            2
        """
        return sql(self.storage, query, spark=self.spark)

    def properties(self, name: str) -> dict[str, str]:
        """Table ``name``'s properties, such as its ``lakehouse.classification``.

        Example:
            >>> lakehouse.properties("dev_gold.hr.headcount")["lakehouse.classification"]  # doctest: +SKIP
            'general'
        """
        return LocalCatalog(self.storage).table(self._name(name)).properties()

    def run_pipelines(
        self, domain: Domain, *, full_refresh: bool = False
    ) -> dict[str, UpdateResult]:
        """One update of each of the domain's own pipelines (its gold), as its bundle YAML
        declares them, over whatever tables the lakehouse holds; by pipeline name.

        Example:
            >>> lakehouse.run_pipelines(domain)["sales_gold"].rows_written("daily_revenue")  # doctest: +SKIP
            2
        """
        return {
            spec.name: run_spec(
                spec, storage=self.storage, full_refresh=full_refresh, spark=self.spark
            )
            for spec in domain_pipelines(domain, self.env)
        }

    def run_domain(self, domain: Domain) -> DomainRun:
        """One run of the domain's scheduled job: ingestion of what landed, then its gold.

        Example:
            >>> lakehouse.run_domain(domain).ingestion["crm"].rows_written("dev_bronze.crm.orders")  # doctest: +SKIP
            50
        """
        return run_domain(
            domain, storage=self.storage, landing=self.landing, env=self.env, spark=self.spark
        )

    def run_batches(self, domain: Domain, batches: Iterable[int]) -> DomainBatches:
        """Land each batch of the domain's sample data and run the domain's job after each,
        as the days go by in production.

        Example:
            >>> sales = lakehouse.run_batches(domain, [0, 1])  # doctest: +SKIP
            >>> sales.conservation_problems()  # doctest: +SKIP
            []
        """
        result = DomainBatches(domain, self, [], [])
        for batch in batches:
            landed = land_domain(domain.folder, self.landing, batch)
            result.batches.append({d.contract.dataset: d.records for d in landed})
            result.runs.append(self.run_domain(domain))
        return result

    def _name(self, name: str) -> TableName:
        return TableName.parse(name, "main", "default")

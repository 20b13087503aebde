"""Bronze, per contract: the landed files as they arrived, appended with Auto Loader.

Nothing is typed away: JSON and CSV columns are kept as text (silver casts them), columns the
contract does not know and values that do not parse go to ``_rescued_data`` with their file,
and each row carries when it was ingested, from which file, and an id of its own. The table is append-only and has the change data feed on.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.contracts import DataContract
from lakehouse.ingestion.settings import IngestionSettings
from lakehouse.ingestion.table_metadata import RESCUED, column_metadata, contract_properties

INGESTED_AT = "_ingested_at"
SOURCE_FILE = "_source_file"
# Tells apart records that landed at once in one file (streams have no row numbers).
RECORD_ID = "_record_id"


def define_bronze(spark: Any, contract: DataContract, settings: IngestionSettings) -> None:
    """Declare the bronze streaming table of ``contract`` in the pipeline being loaded.

    Example:
        >>> define_bronze(spark, contract, settings)  # in a pipeline file  # doctest: +SKIP
    """
    import dlt  # the pipeline API of whichever runtime loads the pipeline

    @dlt.table(
        name=settings.bronze_table(contract),
        comment=f"{contract.dataset} from {contract.source_system} as landed, untyped "
        f"(contract {contract.id} {contract.version}).",
        table_properties={
            "delta.appendOnly": "true",
            "delta.enableChangeDataFeed": "true",
            "lakehouse.layer": "bronze",
            **contract_properties(contract, settings.highest_classification),
        },
    )
    def bronze() -> DataFrame:
        reader = (
            spark.readStream.format("cloudFiles")
            .option("cloudFiles.format", contract.file_format)
            .schema(landed_schema(contract))
            # With a given schema, the rescued data column is there only when asked for.
            .option("rescuedDataColumn", RESCUED)
            .option("encoding", contract.encoding)
            .option("cloudFiles.allowOverwrites", str(contract.allow_overwrites).lower())
        )
        if contract.file_format == "csv":
            reader = reader.option("header", "true")
        return reader.load(settings.landing_path(contract)).select(
            *[
                F.col(f"`{c.name}`").alias(c.name, metadata=column_metadata(c))
                for c in contract.columns
            ],
            RESCUED,
            F.current_timestamp().alias(INGESTED_AT),
            F.col("_metadata.file_path").alias(SOURCE_FILE),
            F.expr("uuid()").alias(RECORD_ID),
        )


def landed_schema(contract: DataContract) -> str:
    """The columns bronze reads, as DDL: text for JSON and CSV, the contract's types for
    Parquet (already typed by its writer).

    Example:
        >>> landed_schema(contract)  # doctest: +SKIP
        '`customer_id` STRING, `name` STRING, ...'
    """
    typed = contract.file_format == "parquet"
    return ", ".join(f"`{c.name}` {c.spark_type if typed else 'STRING'}" for c in contract.columns)

"""Silver, per contract: bronze rows cast to the contract's types and checked against its
rules; records that break a quarantine rule go to a quarantine table beside silver, the rest
are applied with AUTO CDC (SCD1 or SCD2) or appended, as the contract says.

A record is quarantined, with the names of the rules it broke and its bronze lineage, when it
could not be parsed at all (``record_readable``), its file could not be read (``file_readable``:
one record per such file, its path and the reason in ``_rescued_data``), a value does not fit
its column's type, a required column is NULL, or a rule with action ``quarantine`` fails. Rules with action
``warn``, ``drop`` or ``fail`` are expectations of the silver table. Both tables have the
change data feed on.
"""

from __future__ import annotations

import re
from typing import Any

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lakehouse.contracts import DataContract
from lakehouse.contracts.model import Action
from lakehouse.engine.sources.landed_records import CORRUPT_RECORD, FILE_ERROR, UNDECODABLE_BYTES
from lakehouse.ingestion.bronze import INGESTED_AT, RECORD_ID, SOURCE_FILE
from lakehouse.ingestion.settings import IngestionSettings
from lakehouse.ingestion.table_metadata import RESCUED, column_metadata, contract_properties

BROKEN = "_broken_rules"
LANDED = "_landed"
LINEAGE = (SOURCE_FILE, INGESTED_AT, RECORD_ID, RESCUED)
UNREADABLE = "record_readable"
UNREADABLE_FILE = "file_readable"
CONFLICTING_CHANGE = "conflicting_change_event"
DUPLICATE_KEY = "duplicate_key"
_EXPECTATION_ARGUMENT = {
    Action.WARN: "expect_all",
    Action.DROP: "expect_all_or_drop",
    Action.FAIL: "expect_all_or_fail",
}


def define_silver(spark: Any, contract: DataContract, settings: IngestionSettings) -> None:
    """Declare the silver table of ``contract`` and its quarantine table, and the flows into
    them, in the pipeline being loaded.

    Example:
        >>> define_silver(spark, contract, settings)  # in a pipeline file  # doctest: +SKIP
    """
    import dlt  # the pipeline API of whichever runtime loads the pipeline

    checked = f"{contract.dataset}_checked"
    silver = settings.silver_table(contract)
    quarantine = f"{silver}_quarantine"
    properties = {"delta.enableChangeDataFeed": "true", **contract_properties(contract)}

    @dlt.view(
        name=checked, comment="Bronze records cast to the contract, with the rules each breaks."
    )
    def checked_records() -> DataFrame:
        bronze = settings.bronze_table(contract)
        checked = checked_frame(spark.readStream.table(bronze), contract)
        # Read whole at each update (a stream-static join), to tell first from repeated.
        return flag_repeated(checked, spark.read.table(bronze), contract)

    dlt.create_streaming_table(
        quarantine,
        comment=f"{contract.dataset} records that broke the contract's rules, as landed.",
        table_properties={
            **properties,
            **contract_properties(contract, settings.highest_classification),  # as landed
            "lakehouse.layer": "silver-quarantine",
        },
    )

    @dlt.append_flow(target=quarantine, name=f"{contract.dataset}_quarantine")
    def quarantined() -> DataFrame:
        rows = spark.readStream.table(checked).where(F.size(BROKEN) > 0)
        return rows.select(f"{LANDED}.*", BROKEN, *LINEAGE)

    expectations: dict[str, dict[str, str]] = {}
    for rule in contract.quality:
        if rule.action is not Action.QUARANTINE:
            argument = _EXPECTATION_ARGUMENT[rule.action]
            expectations.setdefault(argument, {})[rule.name] = rule.condition
    # Rules that stop the update are checked while the record still names its file, so the
    # error does too; the others count on the silver table.
    must_hold = expectations.pop(_EXPECTATION_ARGUMENT[Action.FAIL], {})
    dlt.create_streaming_table(
        silver,
        comment=contract.description,
        table_properties={**properties, "lakehouse.layer": "silver"},
        **expectations,
    )
    valid = f"{contract.dataset}_valid"

    @dlt.view(name=valid)
    @dlt.expect_all_or_fail(must_hold)
    def valid_records() -> DataFrame:
        rows = spark.readStream.table(checked).where(F.size(BROKEN) == 0)
        return rows.drop(LANDED, BROKEN, *[c for c in LINEAGE if c != SOURCE_FILE])

    cdc = contract.cdc
    if cdc is None:

        @dlt.append_flow(target=silver, name=f"{contract.dataset}_append")
        def appended() -> DataFrame:
            return spark.readStream.table(valid).drop(SOURCE_FILE)

        return
    deletes = truncates = None
    if cdc.operation_column is not None and cdc.delete_marker is not None:
        deletes = f"`{cdc.operation_column}` = '{cdc.delete_marker}'"
    if cdc.operation_column is not None and cdc.truncate_marker is not None:
        truncates = f"`{cdc.operation_column}` = '{cdc.truncate_marker}'"
    dlt.create_auto_cdc_flow(
        target=silver,
        source=valid,
        name=f"{contract.dataset}_cdc",
        keys=list(contract.keys),
        sequence_by=cdc.sequence_column,
        apply_as_deletes=deletes,
        apply_as_truncates=truncates,
        # The file stays in the events, for a rejected event's error to name.
        except_column_list=[SOURCE_FILE, *filter(None, [cdc.operation_column])],
        stored_as_scd_type=cdc.scd_type,
        track_history_column_list=list(cdc.track_history_columns)
        if cdc.track_history_columns is not None
        else None,
        track_history_except_column_list=list(cdc.track_history_except_columns)
        if cdc.track_history_except_columns is not None
        else None,
    )


def checked_frame(bronze: DataFrame, contract: DataContract) -> DataFrame:
    """Bronze rows with the contract's columns typed, the landed values in ``_landed``, the
    names of the quarantine rules each breaks in ``_broken_rules``, and their lineage.

    Example:
        >>> checked_frame(bronze_rows, contract).columns  # doctest: +SKIP
        ['customer_id', ..., '_landed', '_source_file', '_ingested_at', '_rescued_data', '_broken_rules']
    """
    typed = contract.file_format != "parquet"
    keys = set(contract.keys)

    def landed(column: str, field: str | None = None) -> SparkColumn:
        """A landed value; a blank or whitespace key counts as no key (NULL)."""
        text = F.col(f"`{column}`") if field is None else F.col(column)[field]
        return F.when(F.trim(text) != "", text) if (field or column) in keys else text

    cast = bronze.select(
        *[
            (landed(c.name).try_cast(c.spark_type) if typed else F.col(f"`{c.name}`")).alias(
                c.name, metadata=column_metadata(c)
            )
            for c in contract.columns
        ],
        F.struct(*[F.col(f"`{c.name}`") for c in contract.columns]).alias(LANDED),
        *LINEAGE,
    )
    checks: list[tuple[str, SparkColumn]] = []
    for c in contract.columns:
        text, value = landed(LANDED, c.name), F.col(f"`{c.name}`")
        if typed:
            fits = text.isNull() | _fits(value, text, c.spark_type)
            checks.append((f"{c.name}_is_{_plain(c.spark_type)}", fits))
        if c.required:
            checks.append((f"{c.name}_required", (text if typed else value).isNotNull()))
    checks += [
        (rule.name, F.expr(rule.condition))
        for rule in contract.quality
        if rule.action is Action.QUARANTINE
    ]
    # A line or a file Auto Loader could not read is in bronze only as rescued data.
    checks.append((UNREADABLE_FILE, F.get_json_object(RESCUED, f"$.{FILE_ERROR}").isNull()))
    unreadable = [F.get_json_object(RESCUED, f"$.{k}") for k in (CORRUPT_RECORD, UNDECODABLE_BYTES)]
    checks.append((UNREADABLE, F.coalesce(*unreadable).isNull()))
    broken = F.filter(
        F.array(*[F.when(~F.coalesce(ok, F.lit(False)), F.lit(name)) for name, ok in checks]),
        lambda name: name.isNotNull(),
    )
    return cast.withColumn(BROKEN, broken)


def flag_repeated(checked: DataFrame, bronze: DataFrame, contract: DataContract) -> DataFrame:
    """``checked`` records with ``conflicting_change_event`` or ``duplicate_key`` added to their
    broken rules when ``bronze`` (all of it) shows that their key was already taken:

    - a change event (a contract with ``cdc``) whose key and sequence another valid event has,
      with different contents (the same instant written in two time zones is the same
      sequence): every such event is quarantined, since no order between them exists; one
      applied by an earlier update stays applied;
    - an appended record (no ``cdc``) whose primary key an earlier valid record has: the first
      landed wins, by ingestion time then file, across batches and updates; among records of
      one file, which land at once, the one with the smallest landed values (as JSON) wins,
      so every run keeps the same record.

    Example:
        >>> flag_repeated(checked_stream, spark.read.table(bronze_name), contract)  # doctest: +SKIP
    """
    valid = checked_frame(bronze, contract).where(F.size(BROKEN) == 0)
    if contract.cdc is not None:
        rule, identity = CONFLICTING_CHANGE, [*contract.keys, contract.cdc.sequence_column]
        contents = F.to_json(F.struct(*[f"`{c.name}`" for c in contract.columns]))
        repeated = (
            valid.groupBy(*identity)
            .agg(F.count_distinct(contents).alias("__versions"))
            .where("__versions > 1")
        )
    elif contract.keys:
        rule, identity = DUPLICATE_KEY, [INGESTED_AT, SOURCE_FILE, RECORD_ID]
        # Records of one file land together, and neither runtime's Auto Loader gives their
        # place in it: the smallest by landed values wins, the same one on every run.
        landing_order = Window.partitionBy(*contract.keys).orderBy(
            INGESTED_AT, SOURCE_FILE, F.to_json(LANDED), RECORD_ID
        )
        repeated = valid.withColumn("__place", F.row_number().over(landing_order)).where(
            "__place > 1"
        )
    else:
        return checked
    flagged = repeated.select(*identity, F.lit(True).alias("__repeated"))
    rules = F.when(F.col("__repeated"), F.array_union(BROKEN, F.array(F.lit(rule)))).otherwise(
        F.col(BROKEN)
    )
    joined = checked.join(flagged, on=identity, how="left")
    return joined.select(*[c for c in checked.columns if c != BROKEN], rules.alias(BROKEN))


def _fits(value: SparkColumn, text: SparkColumn, spark_type: str) -> SparkColumn:
    """Whether a landed value is exactly its typed value: it parsed, a decimal was not rounded
    to the contract's scale (12.345 is not a DECIMAL(12,2)), and a date or timestamp is within
    the range Spark supports, 0001-01-01 to 9999-12-31 (Spark parses +10000-01-01, but no
    reader of the table could hold it)."""
    fits = value.isNotNull()
    lowered = spark_type.lower().replace(" ", "")
    decimal = re.fullmatch(r"decimal(?:\((\d+),(\d+)\))?", lowered)
    if decimal:
        precision, scale = int(decimal.group(1) or 10), int(decimal.group(2) or 0)
        # As wide a scale as the same integer digits allow: rounding shows as a difference.
        exact = text.try_cast(f"DECIMAL(38, {38 - precision + scale})")
        fits = fits & (value == exact)
    elif lowered in ("timestamp", "timestamp_ntz", "date"):
        fits = fits & F.year(value).between(1, 9999)
    return fits


def _plain(spark_type: str) -> str:
    """A type as part of a rule name: ``DECIMAL(12, 2)`` as ``decimal_12_2``."""
    return re.sub(r"[^a-z0-9]+", "_", spark_type.lower()).strip("_")

"""Finance gold, from the ERP's silver tables: the trial balance, and monthly spend per cost
centre under the name the cost centre had when the spend was posted.

Plain Lakeflow pipeline code: it runs unchanged on Databricks and on the local engine. The
pipeline configuration's ``lakehouse.env`` (default ``dev``) says which silver catalog to read,
and ``lakehouse.schemaPrefix`` a developer's own schemas in a development deployment.
"""

from pyspark import pipelines as dp
from pyspark.sql import functions as F

ENV = spark.conf.get("lakehouse.env", "dev")
SCHEMA_PREFIX = spark.conf.get("lakehouse.schemaPrefix", "")  # a developer's own, in dev
SILVER = f"{ENV}_silver.{SCHEMA_PREFIX}erp"
ACCOUNT_CLASS = F.element_at(
    F.array(
        *map(F.lit, ["asset", "liability", "equity", "revenue", "expense", "expense", "expense"])
    ),
    F.substring("account", 1, 1).cast("int"),
)


@dp.materialized_view(
    comment="Debits, credits and balance (debit - credit) per account, over every posted line.",
    table_properties={"lakehouse.classification": "confidential"},
)
def trial_balance():
    return (
        spark.read.table(f"{SILVER}.gl_journal_lines")
        .groupBy("account")
        .agg(
            F.sum("debit").alias("debit"),
            F.sum("credit").alias("credit"),
            F.count("*").alias("lines"),
        )
        .select(
            "account",
            ACCOUNT_CLASS.alias("account_class"),
            "debit",
            "credit",
            "lines",
            (F.col("debit") - F.col("credit")).alias("balance"),
        )
    )


@dp.materialized_view(
    comment="Expense (accounts 5000-7999) per month and cost centre, with the cost centre's "
    "name and department as they were at the end of the posting day.",
    table_properties={"lakehouse.classification": "general"},
)
def monthly_spend_by_cost_centre():
    lines = (
        spark.read.table(f"{SILVER}.gl_journal_lines")
        .where(F.substring("account", 1, 1).isin("5", "6", "7"))
        .withColumn("as_of", F.date_add("posted_on", 1).cast("timestamp"))
    )
    versions = spark.read.table(f"{SILVER}.cost_centres").select(
        "cost_centre_id", "name", "department", "__START_AT", "__END_AT"
    )
    in_force = (
        (lines["cost_centre_id"] == versions["cost_centre_id"])
        & (versions["__START_AT"] < lines["as_of"])
        & (versions["__END_AT"].isNull() | (versions["__END_AT"] >= lines["as_of"]))
    )
    return (
        lines.join(versions, in_force, "left")
        .groupBy(
            F.trunc("posted_on", "month").alias("month"),
            lines["cost_centre_id"],
            versions["name"].alias("cost_centre_name"),
            "department",
        )
        .agg(F.sum(F.col("debit") - F.col("credit")).alias("spend"), F.count("*").alias("lines"))
    )

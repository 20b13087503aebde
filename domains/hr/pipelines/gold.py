"""HR gold, from the HRIS's silver employees: headcount per department.

The employees table is restricted; this aggregate carries no personal data and is classified
general, so other domains may read it. Plain Lakeflow pipeline code: it runs unchanged on
Databricks and on the local engine. The pipeline configuration's ``lakehouse.env`` (default
``dev``) says which silver catalog to read, and ``lakehouse.schemaPrefix`` a developer's own
schemas in a development deployment.
"""

from pyspark import pipelines as dp
from pyspark.sql import functions as F

ENV = spark.conf.get("lakehouse.env", "dev")
SCHEMA_PREFIX = spark.conf.get("lakehouse.schemaPrefix", "")  # a developer's own, in dev
SILVER = f"{ENV}_silver.{SCHEMA_PREFIX}hris"


@dp.materialized_view(
    comment="Current employees per department.",
    table_properties={"lakehouse.classification": "general"},
)
def headcount_by_department():
    return (
        spark.read.table(f"{SILVER}.employees")
        .where("__END_AT IS NULL")
        .groupBy("department")
        .agg(F.count("*").alias("headcount"))
    )

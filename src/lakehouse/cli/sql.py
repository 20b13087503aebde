"""``lakehouse sql``: a Spark SQL query over the local catalog, as a table or JSON lines."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from lakehouse.cli.options import DEFAULT_STORAGE, Storage
from lakehouse.cli.terminal import fail, out, start_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def sql_command(
    query: Annotated[str, typer.Argument(help="A Spark SQL query.")],
    storage: Storage = DEFAULT_STORAGE,
    output_format: Annotated[
        Literal["table", "json"], typer.Option("--format", help="How to print the rows.")
    ] = "table",
    catalog: Annotated[str, typer.Option(help="Catalog for unqualified names.")] = "main",
    schema: Annotated[str, typer.Option(help="Schema for unqualified names.")] = "default",
) -> None:
    """Query the local catalog under STORAGE."""
    from lakehouse.engine import PipelineError, sql

    start_spark()
    try:
        frame = _dates_as_text(sql(storage, query, catalog=catalog, schema=schema))
        rows = frame.collect()
    except PipelineError as error:
        fail(str(error))
    except Exception as error:  # Spark's analysis errors: show the first line, not a trace
        fail(str(error).strip().splitlines()[0])
    if output_format == "json":
        for row in rows:
            sys.stdout.write(json.dumps(row.asDict(recursive=True), default=str) + "\n")
        return
    table = Table()
    for column in frame.columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    out.print(table)


def _dates_as_text(frame: DataFrame) -> DataFrame:
    """Dates and timestamps rendered by Spark: Python's datetime cannot hold all of Spark's
    range (0001-01-01 00:00 fails to convert)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType, TimestampNTZType, TimestampType

    dated = (DateType, TimestampType, TimestampNTZType)
    return frame.select(
        *[
            F.col(f"`{f.name}`").cast("string").alias(f.name)
            if isinstance(f.dataType, dated)
            else F.col(f"`{f.name}`")
            for f in frame.schema.fields
        ]
    )

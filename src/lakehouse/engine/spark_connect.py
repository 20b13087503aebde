"""What differs when the engine's session is a Spark Connect client (``LAKEHOUSE_SPARK_REMOTE``)
rather than a driver in this process: the JVM's objects (a plan's statistics, the SQL parser,
the log configuration) are out of reach, so what the engine reads from them comes through
Spark Connect's own calls, or is left unknown and the engine takes its general path.

``foreachBatch`` functions run in a Python process the Connect server starts, so what they
learn about a batch reaches the engine through files, not the function's object.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

from pyspark.sql import DataFrame, Row, SparkSession

_SIZE = re.compile(r"Statistics\(sizeInBytes=([\d.]+)\s*([KMGTPE]i)?B")
_UNIT = {None: 1, **{f"{unit}i": 1024 ** (power + 1) for power, unit in enumerate("KMGTPE")}}


def is_connect(thing: SparkSession | DataFrame) -> bool:
    """Whether ``thing`` belongs to a Spark Connect session.

    Example:
        >>> is_connect(SparkSession.builder.remote("sc://127.0.0.1:15002").getOrCreate())  # doctest: +SKIP
        True
    """
    return type(thing).__module__.startswith("pyspark.sql.connect.")


def explained_size_bytes(frame: DataFrame) -> int:
    """Spark's estimate of ``frame``'s size (the JVM's ``stats().sizeInBytes``, which a Connect
    client cannot reach), from the plan a cost explain prints.

    Example:
        >>> explained_size_bytes(spark.range(1000))  # doctest: +SKIP
        8000
    """
    return size_in_cost_explain(frame._explain_string(mode="cost"))  # type: ignore[attr-defined]


def size_in_cost_explain(text: str) -> int:
    """The optimized plan's size in a cost explain (``EXPLAIN COST``), which Spark prints to
    four figures; a text without one reads as the largest size, so Spark writes.

    Example:
        >>> size_in_cost_explain("Range (0, 1000), Statistics(sizeInBytes=7.8 KiB, rowCount=1.00E+3)")
        7987
    """
    optimized = text.split("== Optimized Logical Plan ==", 1)[-1]
    match = _SIZE.search(optimized)
    if match is None:
        return 2**63 - 1
    return int(float(match.group(1)) * _UNIT[match.group(2)])


def observed_row(row: Row) -> dict[str, Any]:
    """An observed-metrics row of a streaming progress as a dict of metric names.

    A Connect client's progress carries each row as its JSON form, ``values`` beside a
    ``schema``; a driver's carries the row itself.

    Example:
        >>> observed_row(Row(values=[10, 0], schema={"type": "struct", "fields": [
        ...     {"name": "input_records"}, {"name": "dropped_records"}]}))
        {'input_records': 10, 'dropped_records': 0}
    """
    fields = row.asDict()
    schema = fields.get("schema")
    if set(fields) == {"values", "schema"} and isinstance(schema, dict):
        return {
            f["name"]: value for f, value in zip(schema["fields"], fields["values"], strict=True)
        }
    return fields


_view_ids = itertools.count()


def temporary_view_name() -> str:
    """A view name no other query of this process uses (``sql_over_views``).

    Example:
        >>> temporary_view_name()  # doctest: +SKIP
        '__lakehouse_0'
    """
    return f"__lakehouse_{next(_view_ids)}"


def sql_over_views(
    spark: SparkSession, query: str, views: Mapping[str, DataFrame], *args: Any, **kwargs: Any
) -> DataFrame:
    """``spark.sql(query, *args, **kwargs)`` where ``query`` reads each DataFrame of ``views``
    by its name.

    A driver analyses the query at once, and the analysed plan keeps what each view stands for,
    so the views are temporary views dropped again straight away. A Connect server analyses
    the query only when it runs, so there the frames travel inside the query's own plan (as
    ``spark.sql("... {frame} ...", frame=frame)`` sends them), never as session state.

    Example:
        >>> sql_over_views(spark, "SELECT count(*) FROM v", {"v": spark.range(3)}).first()[0]  # doctest: +SKIP
        3
    """
    if not is_connect(spark):
        for name, frame in views.items():
            frame.createOrReplaceTempView(name)
        try:
            return spark.sql(query, *args, **kwargs)
        finally:
            for name in views:
                spark.catalog.dropTempView(name)
    if not views:
        return spark.sql(query, *args, **kwargs)
    # What Connect's spark.sql does with {frame} arguments, with the views' own names kept (an
    # analysis error's position is then where the engine put the name).
    from pyspark.sql.connect import functions
    from pyspark.sql.connect.dataframe import DataFrame as ConnectDataFrame
    from pyspark.sql.connect.plan import SQL, CachedRelation, SubqueryAlias
    from pyspark.sql.connect.sql_formatter import SQLStringFormatter

    frames = list(views.items())
    if kwargs:  # the caller's own {frame} references
        formatter = SQLStringFormatter(spark)
        query = formatter.format(query, **kwargs)
        frames += [(name, frame) for frame, name in formatter._temp_views]
    values = args[0] if args else None
    positional = [functions.lit(v) for v in values] if isinstance(values, list) else []
    named = {k: functions.lit(v) for k, v in values.items()} if isinstance(values, dict) else {}
    plan = SQL(query, positional, named, [SubqueryAlias(f._plan, n) for n, f in frames])
    client = spark.client  # type: ignore[attr-defined]
    _, properties, execution = client.execute_command(plan.command(client))
    if "sql_command_result" in properties:  # a command: it ran, as spark.sql runs one
        result = ConnectDataFrame(CachedRelation(properties["sql_command_result"]), spark)
        result._execution_info = execution
        return result
    return ConnectDataFrame(plan, spark)

"""Comparing a table with what it should hold, with a message that shows the difference."""

from __future__ import annotations

from typing import Any

from chispa import assert_df_equality
from pyspark.sql import DataFrame


def assert_table_equals(actual: DataFrame, expected: DataFrame, **options: Any) -> None:
    """Fail, showing the differing rows side by side, unless ``actual`` holds exactly the
    rows and columns of ``expected``.

    Row order, nullability and column metadata (comments, classification) are ignored by
    default: a table's rows have no order, and a pipeline's output may be nullable where a
    hand-written frame is not. Any of chispa's ``assert_df_equality`` options overrides that.

    Example:
        >>> assert_table_equals(lakehouse.table("dev_gold.sales.daily_revenue"), expected)  # doctest: +SKIP
    """
    options = {
        "ignore_row_order": True,
        "ignore_nullable": True,
        "ignore_metadata": True,
        **options,
    }
    assert_df_equality(actual, expected, **options)

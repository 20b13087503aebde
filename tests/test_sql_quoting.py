"""Names and values written into SQL text come back from Spark exactly as they were."""

from __future__ import annotations

import pytest

from lakehouse.sql_quoting import quote_identifier, quote_string

AWKWARD = ["plain", "it's", "back\\slash", "tick`s", "a' OR '1'='1", "line\nbreak", "ünïcode"]


@pytest.mark.parametrize("value", AWKWARD)
def test_a_quoted_value_and_name_read_back_unchanged(spark, value):
    (row,) = spark.sql(f"SELECT {quote_string(value)} AS {quote_identifier(value)}").collect()
    assert row.asDict() == {value: value}

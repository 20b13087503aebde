"""A table's declared schema, as DDL: ``schema=`` in Python, the column list in SQL.

Spark's DDL parser reads types, ``NOT NULL`` and comments; what Delta adds is read here:
``GENERATED ALWAYS AS (expr)`` and ``GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY [(START WITH
n INCREMENT BY m)]``. Both are kept in the column's metadata under Delta's own keys, which is
how Delta stores them in the table's schema, and ``table_setup.py`` creates the table with
them. A column's ``MASK`` clause is Unity Catalog's, applied where the table is read: it is
taken out here, and ``column_masks`` names it so that the update can say it is not applied.
"""

from __future__ import annotations

import re

from pyspark.sql.types import StructField, StructType

from lakehouse.engine.sql_files.lexer import split_top_level
from lakehouse.engine.storage.table_setup import (
    GENERATION_EXPRESSION,
    IDENTITY_ALLOW_EXPLICIT_INSERT,
    IDENTITY_START,
    IDENTITY_STEP,
)

_GENERATED = re.compile(r"\bGENERATED\s+ALWAYS\s+AS\s*\(", re.IGNORECASE)
_IDENTITY = re.compile(
    r"\bGENERATED\s+(?P<when>ALWAYS|BY\s+DEFAULT)\s+AS\s+IDENTITY"
    r"(?:\s*\((?P<options>[^)]*)\))?",
    re.IGNORECASE,
)
_MASK = re.compile(r"\bMASK\s+[\w.`]+(?:\s+USING\s+COLUMNS\s*\([^)]*\))?", re.IGNORECASE)
_START = re.compile(r"START\s+WITH\s+(-?\d+)", re.IGNORECASE)
_STEP = re.compile(r"INCREMENT\s+BY\s+(-?\d+)", re.IGNORECASE)


def parse_table_schema(ddl: str) -> StructType:
    """``ddl`` as a ``StructType``, generated and identity columns marked in their metadata.

    Example:
        >>> schema = parse_table_schema(
        ...     "order_datetime TIMESTAMP, "
        ...     "order_day_of_week INT GENERATED ALWAYS AS (dayofweek(order_datetime))")  # doctest: +SKIP
        >>> schema["order_day_of_week"].metadata  # doctest: +SKIP
        {'delta.generationExpression': 'dayofweek(order_datetime)'}
    """
    columns: list[str] = []
    extra: list[dict[str, object]] = []
    for _, column in split_top_level(ddl):
        metadata: dict[str, object] = {}
        column = _take_generated(column, metadata)
        column = _take_identity(column, metadata)
        columns.append(_MASK.sub("", column))
        extra.append(metadata)
    schema = StructType.fromDDL(", ".join(columns))
    if len(schema.fields) != len(extra):  # a form split_top_level did not see; leave it to Spark
        return StructType.fromDDL(ddl)
    return StructType(
        [
            StructField(f.name, f.dataType, f.nullable, {**f.metadata, **more})
            for f, more in zip(schema.fields, extra, strict=True)
        ]
    )


def _take_generated(column: str, metadata: dict[str, object]) -> str:
    match = _GENERATED.search(column)
    if match is None:
        return column
    depth, end = 1, match.end()
    while end < len(column) and depth:
        depth += {"(": 1, ")": -1}.get(column[end], 0)
        end += 1
    metadata[GENERATION_EXPRESSION] = column[match.end() : end - 1].strip()
    return column[: match.start()] + column[end:]


def _take_identity(column: str, metadata: dict[str, object]) -> str:
    match = _IDENTITY.search(column)
    if match is None:
        return column
    options = match.group("options") or ""
    start, step = _START.search(options), _STEP.search(options)
    metadata[IDENTITY_START] = int(start.group(1)) if start else 1
    metadata[IDENTITY_STEP] = int(step.group(1)) if step else 1
    metadata[IDENTITY_ALLOW_EXPLICIT_INSERT] = match.group("when").upper() != "ALWAYS"
    return column[: match.start()] + column[match.end() :]


def column_masks(ddl: str) -> dict[str, str]:
    """The ``MASK`` clause of each column of ``ddl`` that has one.

    Example:
        >>> column_masks("id INT, ssn STRING MASK hr.mask_ssn USING COLUMNS (id)")
        {'ssn': 'MASK hr.mask_ssn USING COLUMNS (id)'}
    """
    masks = {}
    for _, column in split_top_level(ddl):
        match = _MASK.search(column)
        if match is not None:
            masks[column.split(None, 1)[0].strip("`")] = match.group(0)
    return masks

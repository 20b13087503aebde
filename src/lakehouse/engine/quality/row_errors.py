"""Errors a row raises inside a Spark job, carried back to Python intact.

A failing expectation or an invalid change event has to stop the job at the offending row. The
expression built here raises with a marker, a kind and JSON details (the record included); once
the job fails, ``row_error`` finds them again in the Spark error or its JVM causes, so the
engine can report a message of its own instead of a stack trace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F

_MARKER = "LAKEHOUSE_ROW_ERROR"
_CLOSING = "}::END"
_PATTERN = re.compile(_MARKER + r"\[(?P<kind>\w+)\]::(?P<payload>\{.*?\})::END", re.DOTALL)


def stop_at_row(kind: str, details: Mapping[str, str], record: Column) -> Column:
    """An expression that fails the job with ``details`` and the row's ``record`` (JSON).

    Example:
        >>> df.where(F.when(F.col("id").isNull(),
        ...     stop_at_row("example", {"table": "t"}, F.to_json(F.struct("*")))))  # doctest: +SKIP
    """
    return F.raise_error(
        F.concat(F.lit(_opening(kind, details)), F.coalesce(record, F.lit("null")), F.lit(_CLOSING))
    )


def row_error_text(kind: str, details: Mapping[str, str], record: str) -> str:
    """The text ``stop_at_row`` raises, for an error found in Python rather than in a job.

    Example:
        >>> row_error_text("example", {"table": "t"}, '{"id": null}')
        'LAKEHOUSE_ROW_ERROR[example]::{"table": "t", "record": {"id": null}}::END'
    """
    return _opening(kind, details) + record + _CLOSING


def _opening(kind: str, details: Mapping[str, str]) -> str:
    """The marker, the kind and the details as JSON, left open for the record."""
    return f'{_MARKER}[{kind}]::{json.dumps(dict(details))[:-1]}, "record": '


def row_error(error: BaseException, kind: str) -> dict[str, Any] | None:
    """The details ``stop_at_row(kind, ...)`` raised, if ``error`` comes from it.

    Example:
        >>> row_error(stream_failure, "example")  # doctest: +SKIP
        {'table': 't', 'record': {'id': None}}
    """
    # Spark repeats the message in nested causes, some of them escaped: take the first clean one.
    for match in _PATTERN.finditer("\n".join(error_texts(error))):
        if match.group("kind") != kind:
            continue
        try:
            return json.loads(match.group("payload"))
        except json.JSONDecodeError:
            continue
    return None


def error_texts(error: BaseException) -> list[str]:
    """The error's text, then each of its JVM causes' messages, outermost first (a failed
    stream hides the task's error)."""
    texts = [str(error)]
    cause = getattr(error, "_origin", None)
    while cause is not None and len(texts) < 20:
        try:
            texts.append(str(cause.getMessage()))
            cause = cause.getCause()
        except Exception:  # not a JVM throwable after all
            break
    return texts


def mask_row_errors(text: str, mask: Callable[[str], str]) -> str:
    """``text`` with the record of every row error replaced by ``mask(record_json)``."""

    def masked(match: re.Match[str]) -> str:
        try:
            payload = json.loads(match.group("payload"))
        except json.JSONDecodeError:
            return f"{_MARKER}[{match.group('kind')}]::<masked>::END"
        record = mask(json.dumps(payload.pop("record", None), default=str))
        try:
            payload["record"] = json.loads(record)
        except json.JSONDecodeError:
            payload["record"] = record
        return f"{_MARKER}[{match.group('kind')}]::{json.dumps(payload)}::END"

    return _PATTERN.sub(masked, text)


def any_of(conditions: list[Column]) -> Column:
    """True when any of ``conditions`` is (False for none)."""
    result = F.lit(False)
    for condition in conditions:
        result = result | condition
    return result

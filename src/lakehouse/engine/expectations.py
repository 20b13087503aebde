"""Expectations as Spark expressions: counted in the same pass that writes the rows.

Counts come from ``DataFrame.observe`` (no second scan); ``drop`` is a filter; ``fail`` is a
``raise_error`` that carries the expectation, the dataset and the offending record, so the
update stops with a message that names all three.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame, Observation
from pyspark.sql import functions as F

from lakehouse.engine.errors import ExpectationFailed, GraphError
from lakehouse.engine.graph import Expectation

_FAIL_MARKER = "LAKEHOUSE_EXPECTATION_FAILED"
_FAIL_PATTERN = re.compile(_FAIL_MARKER + r"::(?P<payload>\{.*?\})::END", re.DOTALL)


@dataclass(frozen=True)
class ExpectationCheck:
    """The expectations applied to one dataset inside one query, and the name of the
    observation that counts them."""

    observation: str
    dataset: str
    expectations: tuple[Expectation, ...]


@dataclass
class ExpectationMetrics:
    """Counts for one dataset, summed over micro-batches."""

    dataset: str
    input_records: int = 0
    dropped_records: int = 0
    failed: dict[str, int] = field(default_factory=dict)

    def add(self, check: ExpectationCheck, row: Mapping[str, int | None]) -> None:
        self.input_records += int(row.get("input_records") or 0)
        self.dropped_records += int(row.get("dropped_records") or 0)
        for i, expectation in enumerate(check.expectations):
            self.failed[expectation.name] = self.failed.get(expectation.name, 0) + int(
                row.get(f"failed_{i}") or 0
            )

    def as_event_details(self, expectations: Iterable[Expectation]) -> list[dict[str, object]]:
        """The ``data_quality.expectations`` list of a ``flow_progress`` event."""
        return [
            {
                "name": e.name,
                "dataset": self.dataset,
                "passed_records": self.input_records - self.failed.get(e.name, 0),
                "failed_records": self.failed.get(e.name, 0),
            }
            for e in expectations
        ]


def violated(expectation: Expectation) -> Column:
    """True when a row breaks the constraint: it is false or NULL."""
    try:
        condition = F.expr(expectation.constraint)
    except Exception as error:  # Spark's parse error, reworded with the expectation's name
        raise GraphError(
            f"expectation '{expectation.name}' has an invalid constraint "
            f"'{expectation.constraint}': {error}"
        ) from error
    return ~F.coalesce(condition, F.lit(False))


def apply_expectations(
    df: DataFrame, check: ExpectationCheck, observer: str | Observation | None = None
) -> DataFrame:
    """Count, drop and fail rows of ``df`` as ``check`` says.

    Example:
        >>> check = ExpectationCheck("orders#0", "main.sales.orders",
        ...                          (Expectation("valid_id", "id IS NOT NULL", "drop"),))
        >>> apply_expectations(df, check)  # doctest: +SKIP

    Streaming queries report the counts under ``check.observation`` in their progress; batch
    queries pass an ``Observation`` as ``observer``.
    """
    if not check.expectations:
        return df
    broken = [violated(e) for e in check.expectations]
    drop = [b for b, e in zip(broken, check.expectations, strict=False) if e.action == "drop"]
    any_drop = _any(drop)
    counted = df.observe(
        observer or check.observation,
        F.count(F.lit(1)).alias("input_records"),
        F.sum(F.when(any_drop, 1).otherwise(0)).alias("dropped_records"),
        *(F.sum(F.when(b, 1).otherwise(0)).alias(f"failed_{i}") for i, b in enumerate(broken)),
    )
    for b, e in zip(broken, check.expectations, strict=False):
        if e.action == "fail":
            counted = counted.where(
                F.when(b, F.raise_error(_failure_message(e, check.dataset, df))).otherwise(True)
            )
    return counted.where(~any_drop) if drop else counted


def _any(conditions: list[Column]) -> Column:
    result = F.lit(False)
    for condition in conditions:
        result = result | condition
    return result


def _failure_message(expectation: Expectation, dataset: str, df: DataFrame) -> Column:
    header = json.dumps({"expectation": expectation.name, "dataset": dataset})[:-1]
    record = F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns]))
    return F.concat(
        F.lit(f'{_FAIL_MARKER}::{header}, "record": '),
        F.coalesce(record, F.lit("null")),
        F.lit("}::END"),
    )


def expectation_failure(error: BaseException, flow: str) -> ExpectationFailed | None:
    """The ``ExpectationFailed`` hidden in a Spark error, if there is one."""
    # Spark repeats the message in nested causes, some of them escaped: take the first clean one.
    for match in _FAIL_PATTERN.finditer(error_text_with_causes(error)):
        try:
            details = json.loads(match.group("payload"))
        except json.JSONDecodeError:
            continue
        return ExpectationFailed(
            details["expectation"], details["dataset"], flow, json.dumps(details["record"])
        )
    return None


def error_text_with_causes(error: BaseException) -> str:
    """The error's text and its JVM causes' messages (a failed stream hides the task's error)."""
    texts = [str(error)]
    cause = getattr(error, "_origin", None)
    while cause is not None and len(texts) < 20:
        try:
            texts.append(str(cause.getMessage()))
            cause = cause.getCause()
        except Exception:  # not a JVM throwable after all
            break
    return "\n".join(texts)

"""Expectations as Spark expressions: counted in the same pass that writes the rows.

Counts come from ``DataFrame.observe`` (no second scan); ``drop`` is a filter; ``fail`` is a
``raise_error`` that carries the expectation, the dataset and the offending record, so the
update stops with a message that names all three.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame, Observation
from pyspark.sql import functions as F

from lakehouse.engine.errors import ExpectationFailed, GraphError, landed_in
from lakehouse.engine.graph.elements import Expectation
from lakehouse.engine.observability.masking import Masking
from lakehouse.engine.quality.row_errors import any_of, row_error, stop_at_row


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


def merged_expectations(
    *lists: Iterable[Mapping[str, object]],
) -> list[dict[str, object]]:
    """``data_quality.expectations`` lists of one flow's queries as one list: the counts of
    the same expectation on the same dataset added up.

    Example:
        >>> one = {"name": "id", "dataset": "t", "passed_records": 2, "failed_records": 1}
        >>> merged_expectations([one], [{**one, "passed_records": 3}])[0]["passed_records"]
        5
    """
    merged: dict[tuple[object, object], dict[str, object]] = {}
    for details in itertools.chain(*lists):
        key = (details["dataset"], details["name"])
        if key not in merged:
            merged[key] = dict(details)
            continue
        for count in ("passed_records", "failed_records"):
            merged[key][count] = int(merged[key][count]) + int(details[count])  # type: ignore[call-overload]
    return list(merged.values())


def violated(expectation: Expectation) -> Column:
    """True when a row breaks the constraint: it is false or NULL."""
    if isinstance(expectation.constraint, Column):
        return ~F.coalesce(expectation.constraint, F.lit(False))
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
    any_drop = any_of(drop)
    counted = df.observe(
        observer or check.observation,
        F.count(F.lit(1)).alias("input_records"),
        F.sum(F.when(any_drop, 1).otherwise(0)).alias("dropped_records"),
        *(F.sum(F.when(b, 1).otherwise(0)).alias(f"failed_{i}") for i, b in enumerate(broken)),
    )
    for b, e in zip(broken, check.expectations, strict=False):
        if e.action == "fail":
            counted = counted.where(F.when(b, _failure(e, check.dataset, df)).otherwise(True))
    return counted.where(~any_drop) if drop else counted


def _failure(expectation: Expectation, dataset: str, df: DataFrame) -> Column:
    record = F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns]))
    return stop_at_row("expectation", {"expectation": expectation.name, "dataset": dataset}, record)


def expectation_failure(
    error: BaseException, flow: str, masking: Masking | None = None
) -> ExpectationFailed | None:
    """The ``ExpectationFailed`` hidden in a Spark error, if there is one; the record's
    classified values masked."""
    details = row_error(error, "expectation")
    if details is None:
        return None
    record = (masking or Masking()).record_json(json.dumps(details["record"], default=str))
    return ExpectationFailed(
        details["expectation"], details["dataset"], flow, record, landed_in(details["record"])
    )

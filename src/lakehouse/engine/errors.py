"""Errors the engine reports to users: each carries a message that stands on its own."""

from __future__ import annotations

import traceback
from pathlib import Path

from lakehouse.engine.graph.elements import SourceLocation


def exception_line(error: BaseException) -> str:
    """One line for a Python error: ``Type: message`` (its first line), or, for an error that
    has no message (a failed ``assert``), its type and the line that raised it.

    Example:
        >>> exception_line(ValueError("no column 'amount'\\nin orders"))
        "ValueError: no column 'amount'"
    """
    message = str(error).strip()
    if message:
        return f"{type(error).__name__}: {message.splitlines()[0]}"
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return type(error).__name__
    return raised_at(type(error).__name__, frames[-1].filename, frames[-1].lineno, frames[-1].line)


def first_message_line(error: BaseException) -> str:
    """An error's first message line, or its type when it has no message: what a job prints
    for each failure it goes on past.

    Example:
        >>> first_message_line(RuntimeError("[PERMISSION_DENIED] no MANAGE\nat ..."))
        '[PERMISSION_DENIED] no MANAGE'
    """
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def raised_at(name: str, file: str, line: int | None, code: str | None) -> str:
    """An error that says nothing but its name, placed: ``name at file.py:12: source line``.

    Example:
        >>> raised_at("AssertionError", "/src/orders.py", 12, "assert total > 0")
        'AssertionError at orders.py:12: assert total > 0'
    """
    place = f"{name} at {Path(file).name}:{line}"
    return f"{place}: {code.strip()}" if code and code.strip() else place


class PipelineError(Exception):
    """Base class: the message is one paragraph a user can act on; ``log_file``, when set,
    holds the whole error (tracebacks included), and the message names it."""

    log_file: Path | None = None

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} Full error: {self.log_file}" if self.log_file else text


class ConfigurationError(PipelineError):
    """Bad settings or arguments: says which one and what was expected."""


class GraphError(PipelineError):
    """The pipeline's definitions are inconsistent; found before any data moves."""

    def __init__(self, message: str, location: SourceLocation | None = None) -> None:
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class ExpectationFailed(PipelineError):
    """An ``expect_or_fail`` expectation met a row that breaks it; the update stopped."""

    def __init__(
        self, expectation: str, dataset: str, flow: str, record: str, source_file: str | None
    ) -> None:
        self.expectation = expectation
        self.dataset = dataset
        self.flow = flow
        self.record = record
        super().__init__(
            f"Expectation '{expectation}' failed on dataset '{dataset}' (flow '{flow}'): "
            f"the update stopped at a record that violates it{_from_file(source_file)}. "
            f"Record: {record}"
        )


def landed_in(record: object) -> str | None:
    """The file a record (as Spark raised it) landed in, when it carries ``_source_file``:
    where the data came from, not a value of it, so never masked.

    Example:
        >>> landed_in({"id": 3, "_source_file": "file:/landing/a.json"})
        'file:/landing/a.json'
    """
    source = record.get("_source_file") if isinstance(record, dict) else None
    return source if isinstance(source, str) else None


def _from_file(source_file: str | None) -> str:
    return f" from file {source_file}" if source_file else ""


class FlowFailed(PipelineError):
    """A flow's query failed while running."""


class ChangeEventRejected(PipelineError):
    """An AUTO CDC flow met a change event it cannot apply; the update stopped."""

    def __init__(
        self, flow: str, target: str, problem: str, record: str, source_file: str | None
    ) -> None:
        self.flow = flow
        self.target = target
        self.problem = problem
        self.record = record
        super().__init__(
            f"AUTO CDC flow '{flow}' into '{target}' stopped: {problem}{_from_file(source_file)}. "
            f"Record: {record}"
        )

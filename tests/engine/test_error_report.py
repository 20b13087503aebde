"""What a failed flow reports: one meaningful line out of Spark's wrappers, and classified
values masked everywhere."""

from __future__ import annotations

from lakehouse.engine.observability.error_report import error_summary, write_error_log
from lakehouse.engine.observability.masking import Masking
from lakehouse.engine.quality.row_errors import row_error_text


class _JavaCause:
    """A JVM throwable as py4j shows it: a message and a cause."""

    def __init__(self, message: str, cause: _JavaCause | None = None) -> None:
        self.message, self.cause = message, cause

    def getMessage(self) -> str:
        return self.message

    def getCause(self) -> _JavaCause | None:
        return self.cause


def _wrapped(*causes: str) -> Exception:
    error = Exception(
        "[STREAM_FAILED] Query [id = 1] terminated with exception: "
        "[FOREACH_BATCH_USER_FUNCTION_ERROR] An error occurred in the user provided function"
    )
    chain = None
    for message in reversed(causes):
        chain = _JavaCause(message, chain)
    error._origin = chain  # type: ignore[attr-defined]
    return error


def test_the_summary_is_the_innermost_messages_not_the_wrappers():
    error = _wrapped(
        "[TASK_WRITE_FAILED] Task failed while writing rows to file:/lh/t",
        "[FAILED_READ_FILE.NO_HINT] Encountered error while reading file file:/landing/x.json.gz.",
        "Unexpected end of input stream",
    )
    assert error_summary(error) == (
        "[FAILED_READ_FILE.NO_HINT] Encountered error while reading file "
        "file:/landing/x.json.gz.; caused by: Unexpected end of input stream"
    )


def test_a_python_traceback_is_summarized_by_its_last_line():
    error = _wrapped(
        'Traceback (most recent call last):\n  File "x.py", line 1, in f\n    g()\n'
        "ValueError: year 10000 is out of range"
    )
    assert error_summary(error) == "ValueError: year 10000 is out of range"


def test_a_python_workers_traceback_after_sparks_words_is_summarized_by_its_last_line():
    traceback = (
        'Traceback (most recent call last):\n  File "x.py", line 8, in predict\n'
        "    raise ValueError(...)\nValueError: cannot score segment 'retail'"
    )
    error = _wrapped(
        f"An exception was thrown from the Python worker:\n{traceback}",
        f"[PYTHON_EXCEPTION] An exception was thrown from the Python worker: {traceback}\n"
        " SQLSTATE: 38000",
        f"org.apache.spark.api.python.PythonException: {traceback}\n\tat org.apache.spark.X"
        "\n\t... 1 more",
    )
    assert error_summary(error, Masking("confidential")) == "ValueError: cannot score segment '<masked>'"  # fmt: skip


def test_an_error_without_a_message_is_summarized_with_the_line_that_raised_it():
    error = _wrapped(
        "[FOREACH_BATCH_USER_FUNCTION_ERROR] An error occurred in the user provided function",
        'Traceback (most recent call last):\n  File "/lh/src/worker.py", line 3, in run\n'
        '    apply(batch)\n  File "/lh/src/pipeline.py", line 12, in totals\n'
        "    assert total > 0\n           ^^^^^^^^^\nAssertionError",
    )
    assert error_summary(error) == "AssertionError at pipeline.py:12: assert total > 0"


def test_an_error_without_a_message_or_source_lines_is_summarized_with_its_place():
    error = _wrapped(
        'Traceback (most recent call last):\n  File "/lh/src/worker.py", line 3, in run\n'
        '  File "/lh/src/pipeline.py", line 12, in totals\nAssertionError'
    )
    assert error_summary(error) == "AssertionError at pipeline.py:12"


def test_a_python_error_without_a_message_names_where_it_was_raised():
    def totals() -> None:
        raise KeyError

    try:
        totals()
    except KeyError as error:
        summary = error_summary(error)
    assert (
        summary
        == f"KeyError at test_error_report.py:{totals.__code__.co_firstlineno + 1}: raise KeyError"
    )


def test_quoted_values_of_a_classified_table_are_masked_in_the_summary():
    error = _wrapped("[CAST_INVALID_INPUT] The value 'ann@example.com' cannot be cast to INT")
    assert "ann@example.com" not in error_summary(error, Masking("confidential"))
    assert "ann@example.com" in error_summary(error, Masking())


def test_the_log_file_holds_the_whole_error_with_records_masked(tmp_path):
    marker = row_error_text("expectation", {"dataset": "t"}, '{"id": 3, "email": "ann@x.no"}')
    error = _wrapped(f"org.apache.spark.SparkException: {marker}")
    masking = Masking(columns={"email": "confidential"})
    log = write_error_log(error, tmp_path / "logs", "orders flow", "flow failed", masking)
    text = log.read_text()
    assert log.parent == tmp_path / "logs" and log.name.endswith("-orders_flow.log")
    assert "flow failed" in text and "JVM cause 1" in text
    assert '"id": 3' in text and "<masked: confidential>" in text and "ann@x.no" not in text


def test_a_column_classified_general_in_a_confidential_table_is_shown():
    masking = Masking.of(
        {
            "lakehouse.classification": "confidential",
            "lakehouse.classification.columns": '{"country": "general", "ssn": "restricted"}',
        }
    )
    record = {"id": 7, "country": "US", "ssn": "123", "note": None}
    assert masking.record(record) == {
        "id": "<masked: confidential>",
        "country": "US",
        "ssn": "<masked: restricted>",
        "note": None,
    }
    assert not Masking.of({"lakehouse.classification": "general"}).masks

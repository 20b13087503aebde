"""What the user sees when a flow fails: one line naming what went wrong, and the full error
(Python traceback and JVM causes) in a log file under the storage folder, with classified
values masked in both.

Spark wraps a task's error in several layers (a failed stream, a failed micro-batch function,
a Python worker's traceback); the line shown is the innermost ones that say something, such as
``[FAILED_READ_FILE] Encountered error while reading file ...; caused by: Unexpected end of
input stream``.
"""

from __future__ import annotations

import datetime as dt
import re
import traceback
from pathlib import Path

from lakehouse.engine.errors import exception_line, raised_at
from lakehouse.engine.observability.masking import Masking
from lakehouse.engine.observability.redaction import redacted
from lakehouse.engine.quality.row_errors import error_texts, mask_row_errors

# Layers that only say that something below failed.
_WRAPPERS = re.compile(
    r"\[STREAM_FAILED\]|FOREACH_BATCH_USER_FUNCTION_ERROR|An error occurred while calling|"
    r"^Job aborted|^Task failed while writing rows|\[TASK_WRITE_FAILED\]"
)
_TRACEBACK = "Traceback (most recent call last)"
_TRACEBACK_NOISE = ("File ", "at ", "^", "~", "Traceback", "During handling", "The above",
                    "SQLSTATE:", "... ")  # fmt: skip
# A traceback's frame line and the source line under it (none when the next line is the next
# frame: the source was not at hand); an exception line that is a bare name.
_LAST_FRAME = re.compile(
    r'^\s*File "([^"]+)", line (\d+), in [^\n]*\n(?:[ \t]+(?!File ")(\S[^\n]*))?', re.M
)
_BARE_NAME = re.compile(r"^[\w.]+$")


def error_summary(error: BaseException, masking: Masking | None = None) -> str:
    """One line for ``error``: its innermost meaningful messages, masked.

    Example:
        >>> error_summary(ValueError("year 10000 is out of range"))
        'year 10000 is out of range'
    """
    lines: list[str] = []
    for text in error_texts(error):
        line = _meaningful_line(text)
        if line and not _WRAPPERS.search(line) and line not in lines:
            lines.append(line)
    if not lines:
        lines = [_meaningful_line(str(error)) or exception_line(error)]
    summary = "; caused by: ".join(lines[-2:])
    return redacted((masking or Masking()).text(summary))


def _meaningful_line(text: str) -> str:
    """A message's first line; for a Python traceback, its last (the exception itself), with
    the line that raised it when the exception says nothing more than its name."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    # Spark puts a Python worker's traceback after its own words ("An exception was thrown
    # from the Python worker:"), on the same line or the next.
    start = next((i for i, line in enumerate(lines) if _TRACEBACK in line), None)
    if start is not None:
        said = [line for line in lines[start + 1 :] if not line.startswith(_TRACEBACK_NOISE)]
        if not said:
            return lines[0]
        place = _LAST_FRAME.findall(text)
        if _BARE_NAME.match(said[-1]) and place:
            file, line, code = place[-1]
            return raised_at(said[-1], file, int(line), code)
        return said[-1]
    return lines[0]


def write_error_log(
    error: BaseException, folder: Path, name: str, heading: str, masking: Masking
) -> Path:
    """Write ``error`` whole (traceback and JVM causes) to ``folder/<time>-<name>.log``, masked;
    returns the file.

    Example:
        >>> write_error_log(error, storage / "pipelines/p/logs", "orders_append",
        ...                 "flow 'orders_append' failed", Masking())  # doctest: +SKIP
        PosixPath('.../pipelines/p/logs/20261201T101500-orders_append.log')
    """
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    file = folder / f"{stamp}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.log"
    parts = [
        heading,
        "".join(traceback.format_exception(error)),
        *(f"JVM cause {i}:\n{text}" for i, text in enumerate(error_texts(error)[1:], 1)),
    ]
    text = "\n\n".join(parts)
    if masking.masks:
        text = masking.text(mask_row_errors(text, masking.record_json))
    file.write_text(redacted(text))
    return file

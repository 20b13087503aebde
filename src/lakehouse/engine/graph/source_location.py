"""Finds the line of pipeline code that called into the engine, for error messages."""

from __future__ import annotations

import sys
from pathlib import Path

import pyspark

from lakehouse.engine.graph.elements import SourceLocation

# The engine package, every stage folder included.
_ENGINE_DIR = str(Path(__file__).resolve().parent.parent)
_PYSPARK_DIR = str(Path(pyspark.__file__).resolve().parent)


def user_code_location() -> SourceLocation:
    """The innermost stack frame outside the engine, pyspark and the import machinery.

    Example:
        >>> user_code_location()  # called from a pipeline file  # doctest: +SKIP
        SourceLocation(file='/repo/domains/sales/pipelines/orders.py', line=12)
    """
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith((_ENGINE_DIR, _PYSPARK_DIR, "<frozen")):
            return SourceLocation(filename, frame.f_lineno)
        frame = frame.f_back
    return SourceLocation("<unknown>", 0)

"""What a Databricks notebook gives pipeline code besides ``spark``: ``dbutils`` and
``display``, as a local run can honour them (``notebook_globals``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lakehouse.engine.notebook.dbutils import LocalDbutils


def display(*args: Any, **kwargs: Any) -> None:
    """Does nothing, as in a pipeline on Databricks: ``display`` shows results in an
    interactive notebook, and a pipeline update has none."""


def notebook_globals(configuration: Mapping[str, str]) -> dict[str, Any]:
    """The names a pipeline's Python files find defined, besides ``spark``.

    Example:
        >>> notebook_globals({"env": "dev"})["dbutils"].widgets.get("env")
        'dev'
    """
    return {"dbutils": LocalDbutils(configuration), "display": display}

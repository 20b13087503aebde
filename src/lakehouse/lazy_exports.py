"""Package attributes loaded on first use (PEP 562), so that importing a light part of a
package does not load its heavy parts: code deployed to Databricks and the bundle's resource
build import a package's small modules without Spark, delta-rs or the Delta jars."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module) when ``name`` is
    first read from ``package``.

    Example:
        >>> __getattr__ = lazy_exports(__name__, {"run_pipeline": "lakehouse.engine.run"})  # doctest: +SKIP
    """

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        return getattr(importlib.import_module(exports[name]), name)

    return __getattr__

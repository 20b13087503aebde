"""A model file's training script: ``domains/<domain>/models/train_<name>.py`` with
``train(spark, table, model_name, storage) -> version``, which logs, registers and sets the
row's alias. The demo trains once, when the registry has no version for a row yet."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.scoring.control_table import ControlRow
from lakehouse.scoring.model_store import ModelNotFound, resolve

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def ensure_trained(
    spark: SparkSession, row: ControlRow, identifier: Callable[[str], str], storage: Path
) -> str | None:
    """Train ``row``'s model with its domain's script when the registry has none; returns the
    new version, or None when one was there already (or the row has no script).

    Example:
        >>> ensure_trained(spark, row, local_identifiers(storage), storage)  # doctest: +SKIP
        '1'
    """
    try:
        resolve(row.model, row.alias, row.version)
        return None
    except ModelNotFound:
        pass
    script = Path(row.file).with_name(f"train_{row.name}.py")
    if not script.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"train_{row.domain}_{row.name}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.train(spark, identifier(row.input_table), row.model, storage))

"""Loads pipeline source files the way a Databricks pipeline does.

While the files run, ``import dlt`` and ``from pyspark import pipelines as dp`` resolve to
this engine's API and ``spark`` is the pipeline's session, as in a notebook.
"""

from __future__ import annotations

import runpy
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyspark

from lakehouse.engine import api
from lakehouse.engine.errors import ConfigurationError, GraphError, PipelineError, exception_line
from lakehouse.engine.graph.elements import PipelineGraph, SourceLocation
from lakehouse.engine.graph.registry import GraphRegistry, registering_into
from lakehouse.engine.notebook import notebook_globals
from lakehouse.engine.session import PipelineSparkSession
from lakehouse.engine.sql_files.registration import register_sql_file

_API_MODULES = ("dlt", "pyspark.pipelines")


_SOURCE_SUFFIXES = (".py", ".sql")


def pipeline_files(paths: Sequence[str | Path]) -> list[Path]:
    """The Python (``.py``) and SQL (``.sql``) files a pipeline is made of: files as given,
    folders recursively, sorted.

    Example:
        >>> pipeline_files(["domains/sales/pipelines"])  # doctest: +SKIP
        [PosixPath('domains/sales/pipelines/gold.py'), PosixPath('domains/sales/pipelines/kpis.sql')]
    """
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix in _SOURCE_SUFFIXES
                    and p.is_file()
                    and "__pycache__" not in p.parts
                    and not p.name.startswith(".")
                )
            )
        elif path.is_file() and path.suffix in _SOURCE_SUFFIXES:
            files.append(path)
        elif path.exists():
            raise ConfigurationError(
                f"{path}: pipeline source files must be Python (.py) or SQL (.sql) files"
            )
        else:
            raise ConfigurationError(f"{path}: no such file or folder")
    if not files:
        raise ConfigurationError(
            f"no pipeline source files (.py, .sql) found in {', '.join(map(str, paths))}"
        )
    return [f.resolve() for f in files]


@contextmanager
def pipeline_api_modules() -> Iterator[None]:
    """Make ``dlt`` and ``pyspark.pipelines`` this engine's API, and restore them after."""
    saved = {name: sys.modules.get(name) for name in _API_MODULES}
    saved_attr = pyspark.__dict__.get("pipelines")
    for name in _API_MODULES:
        sys.modules[name] = api
    pyspark.pipelines = api  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        if saved_attr is None:
            pyspark.__dict__.pop("pipelines", None)
        else:
            pyspark.pipelines = saved_attr  # type: ignore[attr-defined]


def load_pipeline(
    files: Sequence[Path], registry: GraphRegistry, spark: PipelineSparkSession
) -> PipelineGraph:
    """Run each Python file once and read each SQL file's statements, collecting their
    definitions into ``registry``."""
    with pipeline_api_modules(), registering_into(registry):
        for file in files:
            if file.suffix == ".sql":
                register_sql_file(file, registry, spark)
                continue
            sys.path.insert(0, str(file.parent))
            try:
                runpy.run_path(
                    str(file),
                    init_globals={"spark": spark, **notebook_globals(spark.configuration)},
                    run_name="__main__",
                )
            except PipelineError:
                raise
            except Exception as error:
                raise GraphError(
                    f"loading the pipeline file failed: {exception_line(error)}",
                    _innermost_location_in(file, error),
                ) from error
            finally:
                sys.path.remove(str(file.parent))
    return registry.graph()


def _innermost_location_in(file: Path, error: BaseException) -> SourceLocation:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(file)]
    if isinstance(error, SyntaxError) and error.lineno:
        return SourceLocation(str(file), error.lineno)
    return (
        SourceLocation(str(file), frames[-1].lineno or 0)
        if frames
        else SourceLocation(str(file), 0)
    )

"""``dbutils`` for pipeline code run locally: the parts a pipeline can use without a
workspace, and a clear error naming any other call.

- ``widgets``: ``get`` returns the pipeline's configuration value (what ``--conf`` and the
  bundle's ``configuration`` set), else the default a ``text``/``dropdown``/... call gave;
- ``secrets``: from the environment or a local secrets file (``secrets.py``);
- ``fs``: ``ls``, ``head``, ``put``, ``mkdirs``, ``cp``, ``mv``, ``rm`` on local paths (plain,
  or ``file:``).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakehouse.engine.errors import ConfigurationError, GraphError
from lakehouse.engine.graph.source_location import user_code_location
from lakehouse.engine.notebook.secrets import LocalSecrets
from lakehouse.engine.sources.cloud_files_state import local_path


class _Unavailable:
    """A part of ``dbutils`` that needs a workspace: any call is an error that names it."""

    def __init__(self, path: str) -> None:
        self._path = path

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Unavailable(f"{self._path}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise GraphError(
            f"{self._path}() needs a Databricks workspace; a local pipeline run has "
            "dbutils.widgets, dbutils.secrets and dbutils.fs",
            user_code_location(),
        )


class Widgets:
    """``dbutils.widgets``: a pipeline's parameters are its configuration.

    Example:
        >>> Widgets({"env": "dev"}).get("env")
        'dev'
    """

    def __init__(self, configuration: Mapping[str, str]) -> None:
        self._configuration = dict(configuration)
        self._defaults: dict[str, str] = {}

    def get(self, name: str) -> str:
        if name in self._configuration:
            return self._configuration[name]
        if name in self._defaults:
            return self._defaults[name]
        raise ConfigurationError(
            f"dbutils.widgets.get('{name}'): no such parameter: set it in the pipeline's "
            f"configuration (lakehouse pipeline run --conf {name}=...)"
        )

    def getAll(self) -> dict[str, str]:
        return {**self._defaults, **self._configuration}

    def _define(self, name: str, defaultValue: str = "", *args: Any, **kwargs: Any) -> None:
        self._defaults[name] = str(kwargs.get("default", defaultValue))

    text = dropdown = combobox = multiselect = _define

    def remove(self, name: str) -> None:
        self._defaults.pop(name, None)

    def removeAll(self) -> None:
        self._defaults.clear()


@dataclass(frozen=True)
class FileInfo:
    """What ``dbutils.fs.ls`` returns for each entry."""

    path: str
    name: str
    size: int
    modificationTime: int


class LocalFs:
    """``dbutils.fs`` on the local file system.

    Example:
        >>> LocalFs().put("/tmp/lh/hello.txt", "hi", overwrite=True)  # doctest: +SKIP
        True
    """

    def ls(self, path: str) -> list[FileInfo]:
        folder = _local(path)
        if not folder.exists():
            raise ConfigurationError(f"dbutils.fs.ls('{path}'): no such file or folder")
        entries = sorted(folder.iterdir()) if folder.is_dir() else [folder]
        return [
            FileInfo(
                f"file:{entry}{'/' if entry.is_dir() else ''}",
                entry.name + ("/" if entry.is_dir() else ""),
                0 if entry.is_dir() else entry.stat().st_size,
                int(entry.stat().st_mtime * 1000),
            )
            for entry in entries
        ]

    def head(self, file: str, maxBytes: int = 65536) -> str:
        with _local(file).open("rb") as handle:
            return handle.read(maxBytes).decode(errors="replace")

    def put(self, file: str, contents: str, overwrite: bool = False) -> bool:
        target = _local(file)
        if target.exists() and not overwrite:
            raise ConfigurationError(f"dbutils.fs.put('{file}'): the file exists (overwrite=True)")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(contents)
        return True

    def mkdirs(self, dir: str) -> bool:
        _local(dir).mkdir(parents=True, exist_ok=True)
        return True

    def cp(self, source: str, destination: str, recurse: bool = False) -> bool:
        src, dst = _local(source), _local(destination)
        if src.is_dir():
            if not recurse:
                raise ConfigurationError(f"dbutils.fs.cp('{source}'): a folder needs recurse=True")
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        return True

    def mv(self, source: str, destination: str, recurse: bool = False) -> bool:
        _local(destination).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(_local(source), _local(destination))
        return True

    def rm(self, dir: str, recurse: bool = False) -> bool:
        target = _local(dir)
        if target.is_dir():
            if not recurse:
                raise ConfigurationError(f"dbutils.fs.rm('{dir}'): a folder needs recurse=True")
            shutil.rmtree(target)
            return True
        if target.exists():
            target.unlink()
            return True
        return False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Unavailable(f"dbutils.fs.{name}")


def _local(path: str) -> Path:
    scheme = path.split("/", 1)[0]
    if ":" in scheme and scheme != "file:":  # dbfs:/, s3://, abfss://: storage a local run lacks
        raise ConfigurationError(
            f"dbutils.fs: '{path}' is not a local path; a local pipeline run reads and writes "
            "local folders"
        )
    return local_path(path)


class LocalDbutils:
    """``dbutils`` in a local pipeline run.

    Example:
        >>> LocalDbutils({"env": "dev"}).widgets.get("env")
        'dev'
    """

    def __init__(self, configuration: Mapping[str, str]) -> None:
        self.widgets = Widgets(configuration)
        self.secrets = LocalSecrets()
        self.fs = LocalFs()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Unavailable(f"dbutils.{name}")

"""A YAML file's data, and the line where each field of it is written."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from lakehouse.contracts.problems import ConfigFileError, Problem

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlSource:
    """``data`` parsed from YAML text, with ``lines``: the line of each field path.

    Example:
        >>> source = YamlSource.parse("a:\\n  b: [1, 2]\\n")
        >>> source.data, source.line_of(("a", "b", 1))
        ({'a': {'b': [1, 2]}}, 2)
    """

    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> YamlSource:
        """Parse ``text``; a syntax error, or a key repeated in one mapping, is a
        ``yaml.YAMLError`` carrying its line."""
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        lines: dict[Path_, int] = {}
        if node is not None:
            _index(node, (), lines)
        return cls(yaml.safe_load(text), lines)

    @classmethod
    def read(cls, file: Path, error: type[ConfigFileError], text: str | None = None) -> YamlSource:
        """Parse ``file`` (or ``text``, read from it at another time, such as a git revision);
        an unreadable file or a syntax error is an ``error`` naming the file and the line.

        Example:
            >>> YamlSource.read(Path("domains/hr/domain.yml"), RegistryError).data["name"]  # doctest: +SKIP
            'hr'
        """
        try:
            return cls.parse(file.read_text() if text is None else text)
        except OSError as problem:
            raise error([Problem(file, 1, "", f"cannot read: {problem}")]) from None
        except yaml.YAMLError as problem:
            mark = getattr(problem, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            raise error([Problem(file, line, "", f"not valid YAML: {problem}")]) from None

    def line_of(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest written parent (1 for the whole file)."""
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def body_line(self, path: Path_) -> int:
        """The line where the value at ``path`` starts: its first field for a mapping or a list,
        which is where the Databricks CLI places a resource; ``line_of(path)`` otherwise.

        Example:
            >>> YamlSource.parse("jobs:\\n  weekly:\\n    name: w\\n").body_line(("jobs", "weekly"))
            3
        """
        depth = len(path) + 1
        children = [line for p, line in self.lines.items() if len(p) == depth and p[:-1] == path]
        return min(children, default=self.line_of(path))


def _index(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            first = seen.setdefault(str(key.value), key.start_mark.line + 1)
            if first != key.start_mark.line + 1:  # YAML readers differ on which one wins
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key '{key.value}' repeated (first on line {first})",
                    key.start_mark,
                )
            child = (*path, str(key.value))
            _index(value, child, lines)
            lines[child] = key.start_mark.line + 1  # a field's line is its key's
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines)


def field_name(path: Path_) -> str:
    """``("schema", 0, "name")`` as ``schema[0].name``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def validation_problems(
    error: ValidationError,
    file: Path,
    source: YamlSource,
    fields_at: Callable[[Path_], Iterable[str]],
) -> list[Problem]:
    """Each of pydantic's errors as a problem at its field's line; an unknown field lists the
    fields ``fields_at`` its path allows.

    Example:
        >>> validation_problems(error, Path("domain.yml"), source, lambda path: {"name"})  # doctest: +SKIP
        [Problem(file=PosixPath('domain.yml'), line=3, field='nmae', message="unknown field; ...")]
    """
    problems = []
    for item in error.errors():
        path = tuple(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = f"unknown field; expected one of {sorted(fields_at(path))}"
        problems.append(Problem(file, source.line_of(path), field_name(path), message))
    return problems

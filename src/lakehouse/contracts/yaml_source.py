"""A YAML file's data, and the line where each field of it is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

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
        """Parse ``text``; a syntax error is a ``yaml.YAMLError`` carrying its line."""
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        lines: dict[Path_, int] = {}
        if node is not None:
            _index(node, (), lines)
        return cls(yaml.safe_load(text), lines)

    def line_of(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest written parent (1 for the whole file)."""
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


def _index(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
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

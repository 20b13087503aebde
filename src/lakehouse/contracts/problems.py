"""What is wrong with a contract or another configuration file: each problem names the file,
the line and the field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a contract or configuration file.

    Example:
        >>> str(Problem(Path("customers.yaml"), 12, "schema[0].properties[1].logicalType",
        ...             "'text' is not one of ['string', 'integer', ...]"))
        "customers.yaml:12: schema[0].properties[1].logicalType: 'text' is not one of ['string', 'integer', ...]"
    """

    file: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field or '(whole file)'}: {self.message}"


class ConfigFileError(Exception):
    """A configuration file that cannot be used; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(map(str, self.problems)))


class ContractError(ConfigFileError):
    """A contract that cannot be used."""

"""Three-level table names (``catalog.schema.table``) and how short names resolve."""

from __future__ import annotations

from dataclasses import dataclass

from lakehouse.engine.errors import ConfigurationError

LIVE_PREFIX = "live"


@dataclass(frozen=True, order=True)
class TableName:
    """A fully qualified, lower-case table name, as Unity Catalog stores it.

    Example:
        >>> TableName.parse("orders", "main", "sales")
        TableName(catalog='main', schema='sales', table='orders')
        >>> str(TableName.parse("LIVE.orders", "main", "sales"))
        'main.sales.orders'
    """

    catalog: str
    schema: str
    table: str

    @classmethod
    def parse(cls, name: str, default_catalog: str, default_schema: str) -> TableName:
        parts = split_identifier(name)
        if parts and parts[0] == LIVE_PREFIX and len(parts) == 2:
            parts = parts[1:]  # the legacy LIVE. prefix names a dataset of this pipeline
        if len(parts) == 1:
            return cls(default_catalog, default_schema, parts[0])
        if len(parts) == 2:
            return cls(default_catalog, parts[0], parts[1])
        if len(parts) == 3:
            return cls(parts[0], parts[1], parts[2])
        raise ConfigurationError(
            f"'{name}' is not a table name: expected table, schema.table or catalog.schema.table"
        )

    def __str__(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.table}"


def split_identifier(name: str) -> list[str]:
    """Split a dotted identifier, honouring backticks, into lower-case parts.

    Example:
        >>> split_identifier("`my-cat`.Sales.orders")
        ['my-cat', 'sales', 'orders']
    """
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in name.strip():
        if char == "`":
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    if quoted or any(not p.strip() for p in parts):
        raise ConfigurationError(f"'{name}' is not a valid identifier")
    return [p.strip().lower() for p in parts]

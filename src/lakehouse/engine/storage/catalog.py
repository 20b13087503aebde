"""The persistent local catalog: every published table is a Delta table at a fixed place
under the storage folder, ``<storage>/catalog/<catalog>/<schema>/<table>``.

The folder is the metastore: a table exists once its Delta log holds a commit (a log left
empty by a creation cut short is no table), and its schema, comment and properties live in
that log. A published view (SQL ``CREATE VIEW``) is its definition, ``_view.json``, in the
same place a table would be. Nothing is registered in Spark's session catalog, so one Spark
session can serve several storage folders (and two catalogs with the same schema and table
names never collide).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.delta_table import LOG_FOLDER, LocalDeltaTable
from lakehouse.engine.storage.local_files import write_atomically

VIEW_FILE = "_view.json"


@dataclass(frozen=True)
class ViewDefinition:
    """A published view: its query as written (configuration substituted), the schema its
    short names resolve in, and where it is written, for messages."""

    query: str
    default: tuple[str, str]
    file: str
    line: int
    column: int
    comment: str | None = None


@dataclass(frozen=True)
class LocalCatalog:
    """Tables under one storage folder.

    Example:
        >>> catalog = LocalCatalog(Path("/tmp/lh"))
        >>> catalog.table_path(TableName("main", "sales", "orders"))
        PosixPath('/tmp/lh/catalog/main/sales/orders')
    """

    storage: Path

    @property
    def root(self) -> Path:
        return self.storage / "catalog"

    def table_path(self, name: TableName) -> Path:
        return self.root / name.catalog / name.schema / name.table

    def table(self, name: TableName) -> LocalDeltaTable:
        """The Delta table ``name`` names (which may not exist yet).

        Example:
            >>> catalog.table(TableName("dev_gold", "hr", "headcount")).properties()  # doctest: +SKIP
            {'lakehouse.classification': 'general'}
        """
        return LocalDeltaTable(self.table_path(name))

    def exists(self, name: TableName) -> bool:
        """Whether a commit created the table ``name`` names.

        Example:
            >>> catalog.exists(TableName("main", "sales", "orders"))  # doctest: +SKIP
            True
        """
        return self.table(name).exists()

    def view(self, name: TableName) -> ViewDefinition | None:
        """The definition of the view ``name`` names, or None if it names no view.

        Example:
            >>> catalog.view(TableName("main", "sales", "dutch_orders")).query  # doctest: +SKIP
            "SELECT * FROM orders WHERE country = 'NL'"
        """
        file = self.table_path(name) / VIEW_FILE
        if not file.is_file():
            return None
        fields = json.loads(file.read_text())
        return ViewDefinition(**{**fields, "default": tuple(fields["default"])})

    def create_view(self, name: TableName, definition: ViewDefinition) -> None:
        """Publish (or replace) the view ``name``.

        Example:
            >>> catalog.create_view(TableName("main", "sales", "dutch_orders"), definition)  # doctest: +SKIP
        """
        # a reader sees the old definition or the new one
        write_atomically(self.table_path(name) / VIEW_FILE, json.dumps(asdict(definition)))

    def tables(self) -> list[TableName]:
        """Every table in the catalog, sorted by name."""
        if not self.root.is_dir():
            return []
        names = (
            TableName(log.parent.parent.parent.name, log.parent.parent.name, log.parent.name)
            for log in self.root.glob(f"*/*/*/{LOG_FOLDER}")
        )
        return sorted(name for name in names if self.exists(name))

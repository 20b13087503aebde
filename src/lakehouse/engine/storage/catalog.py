"""The persistent local catalog: every published table is a Delta table at a fixed place
under the storage folder, ``<storage>/catalog/<catalog>/<schema>/<table>``.

The folder is the metastore: a table exists once its Delta log holds a commit (a log left
empty by a creation cut short is no table), and its schema, comment and properties live in
that log. Nothing is registered in Spark's session catalog, so one Spark session can serve
several storage folders (and two catalogs with the same schema and table names never collide).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lakehouse.engine.graph.names import TableName
from lakehouse.engine.storage.delta_table import LOG_FOLDER, LocalDeltaTable


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

    def tables(self) -> list[TableName]:
        """Every table in the catalog, sorted by name."""
        if not self.root.is_dir():
            return []
        names = (
            TableName(log.parent.parent.parent.name, log.parent.parent.name, log.parent.name)
            for log in self.root.glob(f"*/*/*/{LOG_FOLDER}")
        )
        return sorted(name for name in names if self.exists(name))

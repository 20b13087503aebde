"""What each table of the layers is classified, read from the repository without running
anything: bronze, silver and the quarantine from their contracts, gold from the
``lakehouse.classification`` table property its pipeline source declares (a Python
decorator's ``table_properties`` literal, or a SQL file's ``TBLPROPERTIES``).

Sandpit reads and shares name tables as ``<layer>.<schema>.<table>``; the governance rules
and the share job look their classification and owner up here. A gold table whose
classification is not written as a literal is unknown, and treated as above general.

Example:
    >>> tables = classified_tables(Path("."))
    >>> tables["gold.hr.headcount_by_department"].classification  # doctest: +SKIP
    <Classification.GENERAL: 'general'>
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from lakehouse.contracts import find_contracts, load_contract
from lakehouse.contracts.model import Classification, DataContract
from lakehouse.contracts.problems import ConfigFileError
from lakehouse.contracts.yaml_source import YamlSource
from lakehouse.platform.domains import find_domains
from lakehouse.platform.registry import DomainSpec, load_registry

CLASSIFICATION_PROPERTY = "lakehouse.classification"
_DATASET_DECORATORS = {"table", "materialized_view", "streaming_table"}
_SQL_DATASET = re.compile(
    r"CREATE\s+(?:OR\s+REFRESH\s+)?(?:PRIVATE\s+|TEMPORARY\s+)?"
    r"(?:MATERIALIZED\s+VIEW|STREAMING\s+TABLE|LIVE\s+TABLE)\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.`]+)",
    re.IGNORECASE,
)
_SQL_CLASSIFICATION = re.compile(r"'lakehouse\.classification'\s*=\s*'(\w+)'", re.IGNORECASE)


@dataclass(frozen=True)
class ClassifiedTable:
    """A table of the layers, who owns it, and how it is classified (None: not declared);
    ``columns`` are its columns' classifications where a contract lists them."""

    name: str  # <layer>.<schema>.<table>
    owner: DomainSpec
    classification: Classification | None
    file: Path
    line: int
    columns: dict[str, Classification] = field(default_factory=dict)
    contract: DataContract | None = None

    @property
    def highest(self) -> Classification | None:
        """The highest of the table's and its columns' classifications."""
        if self.classification is None:
            return None
        return max([self.classification, *self.columns.values()], key=lambda c: c.rank)


def classified_tables(root: Path) -> dict[str, ClassifiedTable]:
    """Every table of the layers the repository at ``root`` declares, by
    ``<layer>.<schema>.<table>``; a broken contract or registry entry raises its
    ``ConfigFileError``."""
    _, specs = load_registry(root)
    owners = {spec.name: spec for spec in specs}
    tables: dict[str, ClassifiedTable] = {}
    for domain in find_domains(root / "domains"):
        owner = owners.get(domain.name)
        if owner is None:
            continue
        for file in find_contracts([domain.folder / "contracts"]):
            contract = load_contract(file)
            line = contract_classification_line(YamlSource.read(file, ConfigFileError))
            landed = {c.name: c.classification for c in contract.columns}
            ss, name = contract.source_system, contract.dataset
            layers = {f"bronze.{ss}.{name}": landed, f"silver.{ss}.{name}": silver_columns(contract), f"silver.{ss}.{name}_quarantine": landed}  # fmt: skip
            for table, columns in layers.items():
                tables[table] = ClassifiedTable(table, owner, contract.classification, file, line, columns, contract)  # fmt: skip
        for file in sorted(domain.pipelines.rglob("*")) if domain.pipelines.is_dir() else []:
            for dataset, level, line in _declared_gold(file):
                name = f"gold.{domain.name}.{dataset}"
                tables[name] = ClassifiedTable(name, owner, level, file, line)
    return tables


def silver_columns(contract: DataContract) -> dict[str, Classification]:
    """Silver's columns with their classifications: the contract's, without a change feed's
    operation column, and with SCD type 2's validity columns (at the table's level)."""
    cdc = contract.cdc
    columns = {c.name: c.classification for c in contract.columns if cdc is None or c.name != cdc.operation_column}  # fmt: skip
    if cdc is not None and cdc.scd_type == 2:
        columns |= {"__START_AT": contract.classification, "__END_AT": contract.classification}
    return columns


def contract_classification_line(source: YamlSource) -> int:
    """The line of a contract's table classification (its schema object's custom property)."""
    properties = ((source.data.get("schema") or [{}])[0] or {}).get("customProperties") or []
    for index, entry in enumerate(properties):
        if isinstance(entry, dict) and entry.get("property") == "classification":
            return source.line_of(("schema", 0, "customProperties", index, "value"))
    return source.line_of(("schema", 0))


def _declared_gold(file: Path) -> list[tuple[str, Classification | None, int]]:
    """The datasets ``file`` defines, with the classification it declares for each."""
    if file.suffix == ".py":
        return _python_datasets(file)
    if file.suffix == ".sql":
        return _sql_datasets(file)
    return []


def _python_datasets(file: Path) -> list[tuple[str, Classification | None, int]]:
    try:
        tree = ast.parse(file.read_text(), str(file))
    except (SyntaxError, OSError, UnicodeDecodeError):
        return []  # the engine reports it when the pipeline runs
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call else decorator
            if not (isinstance(target, ast.Attribute) and target.attr in _DATASET_DECORATORS):
                continue
            keywords = {k.arg: k.value for k in call.keywords} if call else {}
            name = keywords.get("name")
            dataset = name.value if isinstance(name, ast.Constant) else node.name
            found.append((str(dataset).split(".")[-1], _literal_level(keywords.get("table_properties")), decorator.lineno))  # fmt: skip
    return found


def _literal_level(properties: ast.expr | None) -> Classification | None:
    if not isinstance(properties, ast.Dict):
        return None
    for key, value in zip(properties.keys, properties.values, strict=True):
        if isinstance(key, ast.Constant) and key.value == CLASSIFICATION_PROPERTY and isinstance(value, ast.Constant):  # fmt: skip
            return _level(str(value.value))
    return None


def _sql_datasets(file: Path) -> list[tuple[str, Classification | None, int]]:
    try:
        text = file.read_text()
    except (OSError, UnicodeDecodeError):
        return []
    found = []
    matches = list(_SQL_DATASET.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        declared = _SQL_CLASSIFICATION.search(text, match.end(), end)
        line = text.count("\n", 0, match.start()) + 1
        name = match.group(1).replace("`", "").split(".")[-1]
        found.append((name, _level(declared.group(1)) if declared else None, line))
    return found


def _level(value: str) -> Classification | None:
    return next((c for c in Classification if c.value == value.lower()), None)

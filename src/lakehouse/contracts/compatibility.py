"""Which changes between two versions of a contract break its consumers or producers.

Breaking: a column removed, its type narrowed or changed, a column made required or added as
required, the primary key changed, a classification changed either way (raised, readers may
lose access; lowered, the data becomes readable more widely, which needs the owner's say), the
row filter added, changed or removed (the same, for rows), the CDC settings, the source system, dataset or file format changed, a rule added that fails the
update. Everything else (a column added as optional, a type widened, a rule relaxed or added
with another action, descriptions, SLAs) is compatible. A breaking change is allowed only with
a new major version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lakehouse.contracts.model import Action, Classification, Column, DataContract

# Spark types each type widens to without losing values.
_WIDER = {
    "TINYINT": {"SMALLINT", "INT", "BIGINT", "DOUBLE", "STRING"},
    "SMALLINT": {"INT", "BIGINT", "DOUBLE", "STRING"},
    "INT": {"BIGINT", "DOUBLE", "STRING"},
    "BIGINT": {"STRING"},
    "FLOAT": {"DOUBLE", "STRING"},
    "DOUBLE": {"STRING"},
    "DATE": {"TIMESTAMP", "STRING"},
    "BOOLEAN": {"STRING"},
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)\Z")


@dataclass(frozen=True)
class Change:
    """One difference between two versions of a contract."""

    field: str
    description: str
    breaking: bool

    def __str__(self) -> str:
        kind = "breaking" if self.breaking else "compatible"
        return f"{kind}: {self.field}: {self.description}"


def contract_changes(old: DataContract, new: DataContract) -> list[Change]:
    """Every change from ``old`` to ``new``, classified.

    Example:
        >>> [str(c) for c in contract_changes(v1, v2)]  # doctest: +SKIP
        ['breaking: columns.email: removed', 'compatible: columns.segment: added (optional)']
    """
    changes: list[Change] = []

    def note(field: str, description: str, breaking: bool) -> None:
        changes.append(Change(field, description, breaking))

    for name in ("source_system", "dataset", "file_format"):
        if getattr(old, name) != getattr(new, name):
            note(name, f"{getattr(old, name)!r} -> {getattr(new, name)!r}", True)
    if old.ingestion_mode != new.ingestion_mode:
        note("ingestion_mode", f"{old.ingestion_mode} -> {new.ingestion_mode}", False)
    if old.classification != new.classification:
        note("classification", _classification_change(old.classification, new.classification), True)
    if old.keys != new.keys:
        note("primary key", f"{list(old.keys)} -> {list(new.keys)}", True)
    if old.cdc != new.cdc:
        note("cdc", "changed", True)
    old_columns = {c.name: c for c in old.columns}
    new_columns = {c.name: c for c in new.columns}
    for name, column in old_columns.items():
        if name not in new_columns:
            note(f"columns.{name}", "removed", True)
        else:
            changes += _column_changes(column, new_columns[name])
    for name, column in new_columns.items():
        if name not in old_columns:
            kind = "required" if column.required else "optional"
            note(f"columns.{name}", f"added ({kind})", column.required)
    old_rules = {r.name: r for r in old.quality}
    for rule in new.quality:
        before = old_rules.pop(rule.name, None)
        if before is None:
            note(f"quality.{rule.name}", f"added ({rule.action.value})", rule.action is Action.FAIL)
        elif before != rule:
            stricter = rule.action is Action.FAIL and before.action is not Action.FAIL
            note(f"quality.{rule.name}", "changed", stricter or before.condition != rule.condition)
    for name in old_rules:
        note(f"quality.{name}", "removed", False)
    if old.sla != new.sla:
        note("sla", "changed", False)
    if old.row_filter != new.row_filter:
        # Like a classification: rows readers outside the domain see appear or disappear.
        note("row_filter", f"{old.row_filter!r} -> {new.row_filter!r}", True)
    return changes


def _column_changes(old: Column, new: Column) -> list[Change]:
    field = f"columns.{old.name}"
    changes = []
    if old.spark_type != new.spark_type:
        widened = _widens(old.spark_type, new.spark_type)
        kind = "widened" if widened else "narrowed or changed"
        changes.append(
            Change(field, f"type {kind}: {old.spark_type} -> {new.spark_type}", not widened)
        )
    if old.required != new.required:
        changes.append(
            Change(field, "now required" if new.required else "now optional", new.required)
        )
    if old.classification != new.classification:
        changes.append(
            Change(
                field,
                f"classification {_classification_change(old.classification, new.classification)}",
                True,
            )
        )
    if old.description != new.description or old.logical_type != new.logical_type:
        changes.append(Change(field, "description or logical type changed", False))
    return changes


def _widens(old: str, new: str) -> bool:
    old, new = old.upper(), new.upper()
    if new in _WIDER.get(old, set()):
        return True
    old_decimal, new_decimal = _DECIMAL.match(old), _DECIMAL.match(new)
    if old_decimal and new_decimal:
        precision, scale = (int(n) for n in old_decimal.groups())
        new_precision, new_scale = (int(n) for n in new_decimal.groups())
        return new_scale >= scale and new_precision - new_scale >= precision - scale
    return False


def allowed(old: DataContract, new: DataContract, changes: list[Change]) -> bool:
    """Whether ``new`` may replace ``old``: no breaking change, or a new major version."""
    return not any(c.breaking for c in changes) or new.major_version > old.major_version


def _classification_change(old: Classification, new: Classification) -> str:
    """``old -> new (raised|lowered)``: either way a breaking change, since it changes who
    may read the data."""
    way = "raised" if new.rank > old.rank else "lowered"
    return f"{old.value} -> {new.value} ({way})"

"""Classified values kept out of messages, the event log and log files.

A table says what it holds with two table properties: ``lakehouse.classification`` (the
table's level) and ``lakehouse.classification.columns`` (a JSON object of column to level, for
columns classified otherwise). Values of confidential and restricted columns never appear in
what the engine reports: in a record they are replaced by ``<masked: LEVEL>``, and in the text
of an error about such a table every quoted value (Spark quotes values as ``'...'``) is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

CLASSIFICATION = "lakehouse.classification"
COLUMN_CLASSIFICATIONS = "lakehouse.classification.columns"
MASKED_LEVELS = ("confidential", "restricted")
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'")


@dataclass(frozen=True)
class Masking:
    """Which values of one table are classified: the table's ``level`` holds for every column
    but those classified otherwise.

    Example:
        >>> masking = Masking.of({"lakehouse.classification": "general",
        ...     "lakehouse.classification.columns": '{"email": "confidential"}'})
        >>> masking.record({"id": 1, "email": "ann@example.com"})
        {'id': 1, 'email': '<masked: confidential>'}
    """

    level: str | None = None  # the table's
    columns: Mapping[str, str] = field(default_factory=dict)  # those classified otherwise

    @classmethod
    def of(cls, properties: Mapping[str, str]) -> Masking:
        try:
            columns = json.loads(properties.get(COLUMN_CLASSIFICATIONS) or "{}")
        except json.JSONDecodeError:
            columns = {}
        if not isinstance(columns, dict):
            columns = {}
        return cls(properties.get(CLASSIFICATION), {str(c): str(v) for c, v in columns.items()})

    @property
    def masks(self) -> bool:
        return self.level in MASKED_LEVELS or any(v in MASKED_LEVELS for v in self.columns.values())

    def record(self, record: Mapping[str, object]) -> dict[str, object]:
        """``record`` with its classified values replaced (a column classified ``general`` in
        a confidential table is shown)."""
        masked = {}
        for name, value in record.items():
            level = self.columns.get(name, self.level)
            hidden = level in MASKED_LEVELS and value is not None
            masked[name] = f"<masked: {level}>" if hidden else value
        return masked

    def record_json(self, record: str) -> str:
        """A record as JSON (or any text), masked; text that is not a JSON object is masked
        whole when the table holds classified values."""
        try:
            parsed = json.loads(record)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return json.dumps(self.record(parsed), default=str)
        return "<masked>" if self.masks else record

    def text(self, text: str) -> str:
        """An error's text with every quoted value masked, when the table holds classified
        values.

        Example:
            >>> Masking("confidential").text("The value 'ann@example.com' cannot be cast")
            "The value '<masked>' cannot be cast"
        """
        return _QUOTED.sub("'<masked>'", text) if self.masks else text

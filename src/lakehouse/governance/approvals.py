"""Fields the governance files share: e-mail addresses, a data owner's approval, and a
table of the layers named ``<layer>.<schema>.<table>``."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator

from lakehouse.contracts.model import FrozenModel

LAYERS = ("bronze", "silver", "gold")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("expected an e-mail address")
    return value


def _layer_table(value: str) -> str:
    parts = value.split(".")
    if len(parts) != 3 or parts[0] not in LAYERS or not all(parts):
        raise ValueError(
            f"expected <layer>.<schema>.<table> with layer {', '.join(LAYERS)}, "
            "such as silver.crm.orders"
        )
    return value


Email = Annotated[str, AfterValidator(_email)]
LayerTable = Annotated[str, AfterValidator(_layer_table)]


class Approval(FrozenModel):
    """A data owner's approval, recorded where it is needed (a sandpit's read above general,
    a share of general data).

    Example:
        >>> Approval(by="head-of-sales-ops@example.com", when=date(2026, 12, 1)).by
        'head-of-sales-ops@example.com'
    """

    by: Email
    when: date  # the day the data owner approved (`on` would read as true in YAML)
    reference: str | None = None

"""Validation against the Open Data Contract Standard's JSON schema, as shipped in the
``open-data-contract-standard`` package."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft201909Validator

from lakehouse.schema_errors import schema_errors


@cache
def odcs_validator() -> Draft201909Validator:
    """The validator of ODCS v3 contracts (the package's ``schema.json``)."""
    schema = json.loads((files("open_data_contract_standard") / "schema.json").read_text())
    return Draft201909Validator(schema)


def odcs_errors(document: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Each place where ``document`` breaks the ODCS schema, as (field path, message).

    Example:
        >>> list(odcs_errors({"apiVersion": "v3.1.0", "kind": "DataContract", "id": "x"}))
        [((), "'version' is a required property")]
    """
    return schema_errors(odcs_validator(), document)

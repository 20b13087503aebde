"""Validation against the Open Data Contract Standard's JSON schema, as shipped in the
``open-data-contract-standard`` package."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft201909Validator
from jsonschema.exceptions import ValidationError, best_match


@cache
def odcs_validator() -> Draft201909Validator:
    """The validator of ODCS v3 contracts (the package's ``schema.json``)."""
    schema = json.loads((files("open_data_contract_standard") / "schema.json").read_text())
    return Draft201909Validator(schema)


def schema_errors(document: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Each place where ``document`` breaks the ODCS schema, as (field path, message); of the
    alternatives a ``oneOf`` or ``anyOf`` offers, the closest one's error.

    Example:
        >>> list(schema_errors({"apiVersion": "v3.1.0", "kind": "DataContract", "id": "x"}))
        [((), "'version' is a required property")]
    """
    seen = set()
    for error in odcs_validator().iter_errors(document):
        for found in _leaves(error):
            if found not in seen:  # several branches of the schema can report the same
                seen.add(found)
                yield found


def _leaves(error: ValidationError) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if error.context:
        closest = best_match(error.context)
        if closest is not None and closest is not error:
            yield from _leaves(closest)
            return
    yield tuple(error.absolute_path), error.message

"""A document's JSON schema violations as field paths and messages, the closest alternative
of each ``oneOf`` / ``anyOf`` taken, so that a message points at the key that is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

FieldPath = tuple[str | int, ...]


def schema_errors(validator: Validator, document: Any) -> Iterator[tuple[FieldPath, str]]:
    """Each place where ``document`` breaks ``validator``'s schema, once.

    Example:
        >>> from jsonschema import Draft202012Validator
        >>> validator = Draft202012Validator({"properties": {"a": {"type": "integer"}}})
        >>> list(schema_errors(validator, {"a": "x"}))
        [(('a',), "'x' is not of type 'integer'")]
    """
    seen = set()
    for error in validator.iter_errors(document):
        for found in _leaves(error):
            if found not in seen:  # several branches of the schema can report the same
                seen.add(found)
                yield found


def _leaves(error: ValidationError) -> Iterator[tuple[FieldPath, str]]:
    if error.context:
        # An alternative of another type (``oneOf: [object, "${var...}" string]``) is not the
        # closest when one of the instance's type is there.
        same_type = [e for e in error.context if e.relative_path or e.validator != "type"]
        closest = best_match(same_type or error.context)
        if closest is not None and closest is not error:
            yield from _leaves(closest)
            return
    yield tuple(error.absolute_path), error.message
